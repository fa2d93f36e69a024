// Pipelined requests: every complete request already in the read buffer is handled in order
// and their responses leave in one write, within a budget; nothing is held while the server
// waits for the client, and the edge cases (close, HEAD, errors, streams, upgrades) keep
// their meaning in the middle of a batch.
#include <spur/app.hpp>

#include "support/gate.hpp"
#include "support/test_server.hpp"
#include "server/wire_routes.hpp"

#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

using namespace spur;
using spur::test::RawConnection;
using spur::test::TestServer;

namespace {

// What happened, in order: "handle /a", "finish /a 200".
class Events {
public:
    void add(std::string event) {
        std::lock_guard lock(mutex_);
        events_.push_back(std::move(event));
    }
    std::vector<std::string> list() {
        std::lock_guard lock(mutex_);
        return events_;
    }
    // Position of `event` in the list, or -1.
    long position(const std::string& event) {
        auto all = list();
        auto it = std::find(all.begin(), all.end(), event);
        return it == all.end() ? -1 : static_cast<long>(it - all.begin());
    }

private:
    std::mutex mutex_;
    std::vector<std::string> events_;
};

// An app recording when each request is handled and when its finish hooks run.
App recording_app(Events& events) {
    App app(AppOptions{[](LogLevel, std::string_view) {}});
    app.use([&events](Request& req, Response& res, Next next) -> Task<> {
        const std::string path(req.path());
        events.add("handle " + path);
        res.on_finish([&events, path](Response& r) { events.add("finish " + path + " " + std::to_string(r.status())); });
        co_await next();
    });
    app.get("/", [](Request&, Response& res) { res.send("root"); });
    app.get("/a", [](Request&, Response& res) { res.send("a"); });
    app.get("/b", [](Request&, Response& res) { res.send("b"); });
    app.get("/c", [](Request&, Response& res) { res.send("c"); });
    app.get("/big/:n", [](Request&, Response& res) { res.send(std::string(8 * 1024, 'x')); });
    app.post("/body", [](Request& req, Response& res) { res.send("got " + req.body()); });
    app.get("/stream", [](Request&, Response& res) {
        res.stream([](BodyWriter& w) -> Task<> {
            co_await w.write("one,");
            co_await w.write("two");
        });
    });
    app.ws("/ws", [](WebSocket& ws) -> Task<> {
        while (auto m = co_await ws.receive()) co_await ws.send(m->data);
    });
    return app;
}

// Whether bytes arrive on `c` within `limit` (RawConnection's blocking read would wait on).
bool readable_within(RawConnection& c, std::chrono::milliseconds limit) {
    pollfd p{c.native_handle(), POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(limit.count())) == 1;
}

std::string body_of(RawConnection& c, bool head = false) {
    auto r = c.read_response(head);
    REQUIRE(r);
    return r->body();
}

}  // namespace

TEST_CASE("pipelined requests are all handled before their responses are written, in one batch", "[server][pipeline][concurrency]") {
    Events events;
    App app = recording_app(events);
    TestServer srv(app);
    RawConnection c(srv.port());
    c.send(test::get("/a") + test::get("/b") + test::get("/c"));
    CHECK(body_of(c) == "a");
    CHECK(body_of(c) == "b");
    CHECK(body_of(c) == "c");
    REQUIRE(spur::test::eventually([&] { return events.list().size() == 6; }));
    // Held until the last request of the batch was answered: its hooks run after the write.
    CHECK(events.list() == std::vector<std::string>{"handle /a", "handle /b", "handle /c", "finish /a 200",
                                                    "finish /b 200", "finish /c 200"});
}

TEST_CASE("a pipelined batch is bounded by its byte budget", "[server][pipeline][concurrency]") {
    Events events;
    App app = recording_app(events);
    TestServer srv(app);
    RawConnection c(srv.port());
    std::string batch;
    for (int i = 0; i < 12; ++i) batch += test::get("/big/" + std::to_string(i));
    c.send(batch);
    for (int i = 0; i < 12; ++i) CHECK(body_of(c).size() == 8 * 1024);
    REQUIRE(spur::test::eventually([&] { return events.list().size() == 24; }));
    // 12 × 8 KiB is more than the 64 KiB budget: the first responses were written (and their
    // hooks ran) before the last request was handled.
    CHECK(events.position("finish /big/0 200") < events.position("handle /big/11"));
    CHECK(events.position("finish /big/0 200") > events.position("handle /big/5"));
}

TEST_CASE("held responses are sent while a later pipelined request waits", "[server][pipeline][concurrency]") {
    Events events;
    spur::test::Gate slow;
    App app = recording_app(events);
    app.get("/slow", [&slow](Request&, Response& res) -> Task<> {
        co_await slow.wait();
        res.send("slow");
    });
    TestServer srv(app);
    RawConnection c(srv.port());
    c.send(test::get("/a") + test::get("/slow"));
    // /slow answers only once the gate opens; /a's answer must not wait for it.
    REQUIRE(readable_within(c, std::chrono::milliseconds(5000)));
    CHECK(body_of(c) == "a");
    CHECK(events.position("finish /slow 200") == -1);
    slow.open();
    CHECK(body_of(c) == "slow");
}

// The same for a request that ran without a coroutine (before steps and a sync handler) and
// failed: it suspends only in the app's on_error, and the answers before it must not wait.
TEST_CASE("held responses are sent while a later request's on_error waits", "[server][pipeline][concurrency]") {
    spur::test::Gate slow;
    App app(AppOptions{[](LogLevel, std::string_view) {}});
    app.use(spur::before([](Request&, Response& res) { res.set("X-Step", "1"); }));
    app.on_error([&slow](Request&, Response& res, const HttpError&) -> Task<> {
        co_await slow.wait(std::chrono::seconds(30));
        res.set("X-Handled", "late");
    });
    app.get("/a", [](Request&, Response& res) { res.send("a"); });
    app.get("/boom", [](Request&, Response&) { throw HttpError(409, "conflict", "Conflict"); });
    TestServer srv(app);
    RawConnection c(srv.port());
    c.send(test::get("/a") + test::get("/boom"));
    // Well before the gate's own 30 s limit: /a's answer is not held by /boom's on_error.
    const bool a_answered = readable_within(c, std::chrono::milliseconds(3000));
    slow.open();
    REQUIRE(a_answered);
    CHECK(body_of(c) == "a");
    auto boom = c.read_response();
    REQUIRE(boom);
    CHECK(boom->result_int() == 409);
    CHECK((*boom)["X-Handled"] == "late");
    CHECK((*boom)["X-Step"] == "1");
}

TEST_CASE("held responses are sent before the server waits for the rest of a request", "[server][pipeline][concurrency]") {
    Events events;
    App app = recording_app(events);
    TestServer srv(app);
    SECTION("the next request's header is incomplete") {
        RawConnection c(srv.port());
        c.send(test::get("/a") + "GET /b HTTP/1.1\r\nHo");
        REQUIRE(readable_within(c, std::chrono::milliseconds(2000)));
        CHECK(body_of(c) == "a");
        c.send("st: t\r\n\r\n");
        CHECK(body_of(c) == "b");
    }
    SECTION("the next request's body has not arrived") {
        RawConnection c(srv.port());
        c.send(test::get("/a") + "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\n");
        REQUIRE(readable_within(c, std::chrono::milliseconds(2000)));
        CHECK(body_of(c) == "a");
        c.send("abcd");
        CHECK(body_of(c) == "got abcd");
    }
    SECTION("the next request expects 100-continue") {
        RawConnection c(srv.port());
        c.send(test::get("/a") + "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
        CHECK(body_of(c) == "a");  // before the interim 100, which comes before the body is read
        auto interim = c.read_response();
        REQUIRE(interim);
        CHECK(interim->result_int() == 100);
        c.send("wxyz");
        CHECK(body_of(c) == "got wxyz");
    }
}

TEST_CASE("Connection: close in the middle of a pipeline ends it there", "[server][pipeline][concurrency]") {
    Events events;
    App app = recording_app(events);
    TestServer srv(app);
    RawConnection c(srv.port());
    c.send(test::get("/a") + test::get("/b", "Connection: close\r\n") + test::get("/c"));
    auto a = c.read_response();
    REQUIRE(a);
    CHECK(a->body() == "a");
    CHECK(a->keep_alive());
    auto b = c.read_response();
    REQUIRE(b);
    CHECK(b->body() == "b");
    CHECK((*b)["Connection"] == "close");
    CHECK(c.wait_closed());
    CHECK(events.position("handle /c") == -1);
}

TEST_CASE("HEAD in the middle of a pipeline has a length and no body", "[server][pipeline][concurrency]") {
    Events events;
    App app = recording_app(events);
    TestServer srv(app);
    RawConnection c(srv.port());
    c.send(test::get("/a") + "HEAD /b HTTP/1.1\r\nHost: t\r\n\r\n" + test::get("/c"));
    CHECK(body_of(c) == "a");
    auto head = c.read_response(true);
    REQUIRE(head);
    CHECK((*head)["Content-Length"] == "1");
    CHECK(head->body().empty());
    CHECK(body_of(c) == "c");  // would read "b" if HEAD's body had been written
}

TEST_CASE("errors in the middle of a pipeline", "[server][pipeline][concurrency]") {
    Events events;
    App app = recording_app(events);
    TestServer srv(app);
    SECTION("a 404 and a 405 keep the connection and the order") {
        RawConnection c(srv.port());
        c.send(test::get("/a") + test::get("/missing") + "DELETE /b HTTP/1.1\r\nHost: t\r\n\r\n" + test::get("/c"));
        auto a = c.read_response();
        auto missing = c.read_response();
        auto wrong_method = c.read_response();
        auto last = c.read_response();
        REQUIRE(a);
        REQUIRE(missing);
        REQUIRE(wrong_method);
        REQUIRE(last);
        CHECK(a->body() == "a");
        CHECK(missing->result_int() == 404);
        CHECK(wrong_method->result_int() == 405);
        CHECK(last->body() == "c");
    }
    SECTION("a malformed request answers 400 after the responses before it, then closes") {
        RawConnection c(srv.port());
        c.send(test::get("/a") + test::get("/b") + "GET /c HTTP/1.1\r\nHost: t\r\nbad header\r\n\r\n" + test::get("/"));
        CHECK(body_of(c) == "a");
        CHECK(body_of(c) == "b");
        auto refused = c.read_response();
        REQUIRE(refused);
        CHECK(refused->result_int() == 400);
        CHECK(c.wait_closed());
        REQUIRE(spur::test::eventually([&] { return events.position("finish /b 200") >= 0; }));
        CHECK(events.position("handle /") == -1);
    }
    SECTION("a smuggling attempt mid-pipeline is refused after the responses before it") {
        RawConnection c(srv.port());
        c.send(test::get("/a") + "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: xchunked\r\n\r\n" + test::get("/b"));
        CHECK(body_of(c) == "a");
        auto refused = c.read_response();
        REQUIRE(refused);
        CHECK(refused->result_int() == 501);  // an unknown transfer coding (RFC 9112 §6.1)
        CHECK(c.wait_closed());
        CHECK(events.position("handle /b") == -1);
    }
}

TEST_CASE("a streamed response in the middle of a pipeline keeps its place", "[server][pipeline][concurrency]") {
    Events events;
    App app = recording_app(events);
    TestServer srv(app);
    RawConnection c(srv.port());
    c.send(test::get("/a") + test::get("/stream") + test::get("/c"));
    CHECK(body_of(c) == "a");
    auto streamed = c.read_response();
    REQUIRE(streamed);
    CHECK((*streamed)["Transfer-Encoding"] == "chunked");
    CHECK(streamed->body() == "one,two");
    CHECK(body_of(c) == "c");
}

TEST_CASE("a request body in the middle of a pipeline", "[server][pipeline][concurrency]") {
    Events events;
    App app = recording_app(events);
    TestServer srv(app);
    RawConnection c(srv.port());
    c.send(test::get("/a") + "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nxyz" +
           "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nuv\r\n0\r\n\r\n" + test::get("/c"));
    CHECK(body_of(c) == "a");
    CHECK(body_of(c) == "got xyz");
    CHECK(body_of(c) == "got uv");
    CHECK(body_of(c) == "c");
}

TEST_CASE("a WebSocket upgrade in a pipeline", "[server][pipeline][concurrency]") {
    Events events;
    App app = recording_app(events);
    TestServer srv(app);
    const std::string upgrade =
        "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    SECTION("last in the batch: the responses before it, then 101 and frames") {
        RawConnection c(srv.port());
        c.send(test::get("/a") + upgrade);
        CHECK(body_of(c) == "a");
        auto switched = c.read_response(true);
        REQUIRE(switched);
        CHECK(switched->result_int() == 101);
        // A masked text frame "hi" (mask 0) and its unmasked echo.
        c.send(std::string("\x81\x82\x00\x00\x00\x00hi", 8));
        char echo[4] = {};
        REQUIRE(readable_within(c, std::chrono::milliseconds(2000)));
        REQUIRE(::recv(c.native_handle(), echo, sizeof echo, MSG_WAITALL) == 4);
        CHECK(std::string(echo, 4) == std::string("\x81\x02hi", 4));
    }
    SECTION("with bytes after it: the responses before it, then the connection is dropped") {
        RawConnection c(srv.port());
        c.send(test::get("/a") + upgrade + test::get("/c"));
        CHECK(body_of(c) == "a");
        CHECK(c.wait_closed());
        CHECK(events.position("handle /c") == -1);
        REQUIRE(spur::test::eventually([&] { return events.position("finish /ws 499") >= 0; }));
    }
}
