// A client that disconnects mid-request cancels the handler's coroutine — on a real socket,
// since what is tested is noticing the peer's FIN while nothing reads.
#include <spur/middleware/access_log.hpp>
#include <spur/offload.hpp>
#include <spur/server.hpp>

#include "support/test_server.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <thread>

using namespace std::chrono_literals;
namespace net = boost::asio;

namespace {
struct Observed {
    std::atomic<bool> started{false};
    std::atomic<bool> cancelled{false};
    std::atomic<bool> completed{false};
    std::atomic<int> finished_status{0};
};

spur::Task<> wait_for(std::chrono::milliseconds d, Observed& o) {
    o.started = true;
    net::steady_timer t(co_await net::this_coro::executor, d);
    try {
        co_await t.async_wait(net::use_awaitable);
    } catch (const boost::system::system_error& e) {
        if (e.code() == net::error::operation_aborted) o.cancelled = true;
        throw;
    }
    o.completed = true;
}

spur::Middleware record_status(Observed& o) {
    return [&o](spur::Request&, spur::Response& res, spur::Next next) -> spur::Task<> {
        res.on_finish([&o](spur::Response& r) { o.finished_status = r.status(); });
        co_await next();
    };
}
}  // namespace

TEST_CASE("a client that closes mid-handler cancels it, nothing is written, and the hooks see 499", "[server][concurrency]") {
    spur::App app;
    Observed o;
    std::mutex log_mutex;
    std::string log;
    spur::middleware::AccessLogOptions access;
    access.format = spur::middleware::AccessLogFormat::combined;
    access.sink = [&](std::string_view line) {
        std::lock_guard lock(log_mutex);
        log += std::string(line) + "\n";
    };
    app.use(spur::middleware::access_log(access));
    app.use(record_status(o));
    app.get("/slow", [&](spur::Request&, spur::Response& res) -> spur::Task<> {
        co_await wait_for(30s, o);
        res.send("too late");
    });
    app.post("/slow", [&](spur::Request& req, spur::Response& res) -> spur::Task<> {
        co_await wait_for(30s, o);
        res.send(req.body());
    });
    spur::test::TestServer server(app);

    SECTION("a request without a body") {
        spur::test::RawConnection c(server.port());
        c.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
        REQUIRE(spur::test::eventually([&] { return o.started.load(); }));
    }
    SECTION("a request whose body was read first") {
        spur::test::RawConnection c(server.port());
        c.send("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
        REQUIRE(spur::test::eventually([&] { return o.started.load(); }));
    }
    // The connection is closed here; the handler is 30 s from done.
    CHECK(spur::test::eventually([&] { return o.cancelled.load(); }, 3s));
    CHECK(spur::test::eventually([&] { return o.finished_status.load() == 499; }, 3s));
    CHECK_FALSE(o.completed);
    std::lock_guard lock(log_mutex);
    CHECK(log.find("/slow HTTP/1.1\" 499 ") != std::string::npos);  // the access log says so too
}

TEST_CASE("a route marked run_to_completion finishes its handler after the client left", "[server][concurrency]") {
    spur::App app;
    Observed o;
    app.use(record_status(o));
    app.post("/pay", [&](spur::Request&, spur::Response& res) -> spur::Task<> {
        co_await wait_for(300ms, o);
        res.status(201).send("paid");
    }).run_to_completion();
    spur::test::TestServer server(app);
    {
        spur::test::RawConnection c(server.port());
        c.send("POST /pay HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        REQUIRE(spur::test::eventually([&] { return o.started.load(); }));
    }
    CHECK(spur::test::eventually([&] { return o.completed.load(); }, 3s));
    CHECK_FALSE(o.cancelled);
    CHECK(spur::test::eventually([&] { return o.finished_status.load() == 499; }, 3s));
}

TEST_CASE("a client that stays gets its answer, and the connection is reused afterwards", "[server][concurrency]") {
    spur::App app;
    Observed o;
    app.get("/slow", [&](spur::Request&, spur::Response& res) -> spur::Task<> {
        co_await wait_for(50ms, o);
        res.send("done");
    });
    spur::test::TestServer server(app);
    spur::test::RawConnection c(server.port());
    for (int i = 0; i < 3; ++i) {
        c.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
        auto r = c.read_response();
        REQUIRE(r);
        CHECK(r->body() == "done");
    }
    // Two requests pipelined: the second's bytes end the first's watch without cancelling it.
    c.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    auto a = c.read_response();
    auto b = c.read_response();
    REQUIRE(a);
    REQUIRE(b);
    CHECK(b->body() == "done");
    CHECK_FALSE(o.cancelled);
}

TEST_CASE("clients that leave while their request waits for an offloaded job leave the server serving", "[server][offload][concurrency]") {
    // Each leave cancels the handler on its I/O thread while the job finishes on a pool thread:
    // Boost 1.81's co_spawn cancellation handler could then run after being freed (a crash).
    spur::App app(spur::AppOptions{[](spur::LogLevel, std::string_view) {}});
    std::atomic<int> jobs{0};
    app.get("/work", [&jobs](spur::Request&, spur::Response& res) -> spur::Task<> {
        auto job = [&jobs] {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            return ++jobs;
        };
        const int n = co_await spur::offload(job);
        res.send(std::to_string(n));
    });
    spur::test::TestServer srv(app);  // two I/O threads
    for (int round = 0; round < 40; ++round) {
        spur::test::RawConnection c(srv.port());
        c.send("GET /work HTTP/1.1\r\nHost: t\r\n\r\n");
        std::this_thread::sleep_for(std::chrono::milliseconds(round % 4 * 6));  // leave at different moments
    }  // each connection closes here
    REQUIRE(spur::test::eventually([&] { return jobs.load() == 40; }));
    auto r = spur::test::round_trip(srv.port(), "GET /work HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(r);
    CHECK(r->result_int() == 200);
    CHECK(r->body() == "41");
}

TEST_CASE("a client that closes during a streamed answer cancels its producer at once, and the hooks see 499",
          "[server][concurrency]") {
    std::atomic<bool> error_logged{false};
    spur::App app(spur::AppOptions{.log = [&](const spur::LogRecord& r) {
        if (r.level == spur::LogLevel::error) error_logged = true;
    }});
    Observed o;
    app.use(record_status(o));
    app.get("/stream", [&](spur::Request&, spur::Response& res) {
        res.stream([&](spur::BodyWriter& w) -> spur::Task<> {
            co_await w.write("first");
            co_await wait_for(30s, o);  // no write for 30 s: only the watch can notice the client go
            co_await w.write("too late");
        });
    });
    spur::test::TestServer server(app);
    {
        spur::test::RawConnection c(server.port());
        c.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
        REQUIRE(spur::test::eventually([&] { return o.started.load(); }));
    }
    CHECK(spur::test::eventually([&] { return o.cancelled.load(); }, 3s));
    CHECK(spur::test::eventually([&] { return o.finished_status.load() == 499; }, 3s));
    CHECK_FALSE(o.completed);
    CHECK_FALSE(error_logged);  // a client leaving is not a failure of the producer
}
