#include <spur/sse/sse.hpp>

#include <spur/app.hpp>
#include <spur/serving.hpp>
#include <spur/testing/client.hpp>

#include "support/sleep.hpp"
#include "support/test_server.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

#include <atomic>

using namespace std::chrono_literals;
namespace net = boost::asio;

namespace {
using spur::test::sleep_for;

// A counter: one event every `period`, ids from Last-Event-ID on.
spur::Handler counter(std::chrono::milliseconds period, int count, spur::SseOptions options = {}) {
    return [=](spur::Request& req, spur::Response& res) {
        spur::sse(req, res, options, [=](spur::EventStream& stream) -> spur::Task<> {
            int from = stream.last_event_id().empty() ? 0 : std::stoi(std::string(stream.last_event_id()));
            for (int i = from + 1; i <= from + count; ++i) {
                spur::Event event;
                event.event = "tick";
                event.id = std::to_string(i);
                event.data = "n=" + std::to_string(i);
                co_await stream.send(event);
                co_await sleep_for(period);
            }
        });
    };
}
}  // namespace

TEST_CASE("format_event writes every data line as its own field and refuses a multi-line id", "[sse][concurrency]") {
    spur::Event e;
    e.event = "update";
    e.id = "7";
    e.retry = 1500ms;
    e.data = "line one\nline two\r\nline three";
    CHECK(spur::format_event(e) == "event: update\nid: 7\nretry: 1500\ndata: line one\ndata: line two\ndata: line three\n\n");
    CHECK(spur::format_event(spur::Event{"x", {}, {}, std::nullopt}) == "data: x\n\n");
    CHECK(spur::format_event(spur::Event{"", {}, {}, std::nullopt}) == "data: \n\n");
    CHECK_THROWS_AS(spur::format_event(spur::Event{"x", {}, "1\n2", std::nullopt}), std::invalid_argument);
    CHECK_THROWS_AS(spur::format_event(spur::Event{"x", "a\rb", {}, std::nullopt}), std::invalid_argument);
}

TEST_CASE("the test client reads an event stream event by event, as it is produced", "[sse][concurrency]") {
    spur::App app;
    app.get("/events", counter(30ms, 3, {.retry = 2000ms}));
    spur::testing::Client client(app);
    auto stream = client.open("GET", "/events");
    CHECK(stream.status() == 200);
    CHECK(stream.header("Content-Type") == "text/event-stream; charset=utf-8");
    CHECK(stream.header("Cache-Control") == "no-cache");
    CHECK(stream.header("Transfer-Encoding") == "chunked");
    auto retry = stream.next_event();
    REQUIRE(retry);
    CHECK(retry->retry == 2000);
    auto first = stream.next_event();
    REQUIRE(first);
    CHECK(first->event == "tick");
    CHECK(first->id == "1");
    CHECK(first->data == "n=1");
    CHECK_FALSE(stream.ended());  // the handler is still sleeping: the rest is not produced yet
    auto second = stream.next_event();
    REQUIRE(second);
    CHECK(second->id == "2");
    REQUIRE(stream.next_event());
    CHECK_FALSE(stream.next_event());
    CHECK(stream.ended());
}

TEST_CASE("a reconnecting client resumes after its Last-Event-ID", "[sse][concurrency]") {
    spur::App app;
    app.get("/events", counter(1ms, 2));
    spur::testing::Client client(app);
    auto stream = client.open("GET", "/events", {{"Last-Event-ID", "41"}});
    auto e = stream.next_event();
    REQUIRE(e);
    CHECK(e->id == "42");
}

TEST_CASE("keep-alive comments flow while the handler has nothing to send", "[sse][concurrency]") {
    spur::App app;
    app.get("/quiet", [](spur::Request& req, spur::Response& res) {
        spur::sse(req, res, {.keep_alive = 20ms}, [](spur::EventStream& stream) -> spur::Task<> {
            co_await sleep_for(120ms);
            co_await stream.send("late");
        });
    });
    spur::testing::Client client(app);
    auto stream = client.open("GET", "/quiet");
    std::string body;
    for (std::string chunk; !(chunk = stream.next_chunk()).empty();) body += chunk;
    CHECK(body.find(": keep-alive\n\n") == 0);
    CHECK(body.find("data: late\n\n") != std::string::npos);
    std::size_t keep_alives = 0;
    for (auto at = body.find(": keep-alive"); at != std::string::npos; at = body.find(": keep-alive", at + 1)) ++keep_alives;
    CHECK(keep_alives >= 2);  // several before the event, none after it
}

TEST_CASE("a drain cancels the handler and ends the stream with the farewell event", "[sse][concurrency]") {
    spur::App app;
    std::atomic<bool> cancelled{false};
    app.get("/forever", [&](spur::Request& req, spur::Response& res) {
        spur::sse(req, res, [&](spur::EventStream& stream) -> spur::Task<> {
            co_await stream.send("hello");
            try {
                co_await sleep_for(60s);
            } catch (const boost::system::system_error&) {
                cancelled = true;
                throw;
            }
        });
    });
    spur::testing::Client client(app);
    auto stream = client.open("GET", "/forever");
    REQUIRE(stream.next_event()->data == "hello");
    bool done = false;
    spur::Serving(app).stop([&] { done = true; });
    auto farewell = stream.next_event();
    REQUIRE(farewell);
    CHECK(farewell->event == "shutdown");
    CHECK(farewell->data == "server shutting down");
    CHECK_FALSE(stream.next_event());
    CHECK(cancelled);
    CHECK(done);
}

TEST_CASE("a client that leaves cancels the event handler and the finish hooks see 499", "[sse][concurrency]") {
    spur::App app;
    std::atomic<bool> cancelled{false};
    int finished_status = 0;
    app.get("/forever", [&](spur::Request& req, spur::Response& res) {
        res.on_finish([&](spur::Response& r) { finished_status = r.status(); });
        spur::sse(req, res, [&](spur::EventStream& stream) -> spur::Task<> {
            co_await stream.send("hello");
            try {
                co_await sleep_for(60s);
            } catch (...) {
                cancelled = true;
                throw;
            }
        });
    });
    spur::testing::Client client(app);
    {
        auto stream = client.open("GET", "/forever");
        REQUIRE(stream.next_event());
    }
    CHECK(cancelled);
    CHECK(finished_status == 499);
}

TEST_CASE("a reader that never reads makes send() wait, and past write_timeout it is dropped", "[sse][concurrency]") {
    spur::App app;
    std::atomic<std::uint64_t> sent{0};
    std::atomic<bool> dropped{false};
    const std::string kilobyte(1024, 'x');
    app.get("/flood", [&](spur::Request& req, spur::Response& res) {
        spur::sse(req, res, {.keep_alive = 0ms}, [&](spur::EventStream& stream) -> spur::Task<> {
            try {
                for (;;) {
                    co_await stream.send(kilobyte);
                    sent = stream.sent();
                }
            } catch (const boost::system::system_error&) {
                dropped = true;
                throw;
            }
        });
    });
    auto options = spur::test::test_options();
    options.write_timeout = 500ms;
    spur::test::TestServer server(app, options);
    spur::test::RawConnection c(server.port());
    int small = 4096;
    ::setsockopt(c.native_handle(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    c.send("GET /flood HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(spur::test::eventually([&] { return dropped.load(); }, 10s));
    // What the server accepted is what the kernel's socket buffers hold, not an ever-growing
    // queue: a few MiB at most (one event in user space at a time).
    INFO("events sent before the drop: " << sent.load());
    CHECK(sent.load() * kilobyte.size() < 16u * 1024 * 1024);
    CHECK(sent.load() > 0);
}

TEST_CASE("over a socket, a server shutdown sends the farewell event and ends the chunked body", "[sse][concurrency]") {
    spur::App app;
    std::atomic<bool> greeted{false};
    app.get("/forever", [&greeted](spur::Request& req, spur::Response& res) {
        spur::sse(req, res, [&greeted](spur::EventStream& stream) -> spur::Task<> {
            co_await stream.send("hello");
            greeted = true;
            co_await sleep_for(60s);
        });
    });
    spur::test::TestServer server(app);
    spur::test::RawConnection c(server.port());
    c.send("GET /forever HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(spur::test::eventually([&] { return greeted.load(); }));  // the stream is open and waiting
    std::thread stopper([&] { server.stop(); });
    auto r = c.read_response();  // completes only if the chunked body ends properly
    stopper.join();
    REQUIRE(r);
    CHECK(r->result_int() == 200);
    CHECK(r->body() == "data: hello\n\nevent: shutdown\ndata: server shutting down\n\n");
}
