#include "background/background.hpp"

#include <spur/app.hpp>
#include <spur/background/background.hpp>
#include <spur/serving.hpp>
#include <spur/testing/client.hpp>

#include "support/captured_log.hpp"
#include "support/run_until.hpp"
#include "support/sleep.hpp"
#include "support/test_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <vector>

using namespace std::chrono_literals;
namespace net = boost::asio;

using spur::test::run_until;
using spur::test::sleep_for;

TEST_CASE("every() runs a task repeatedly, and after a failing run that is logged the next one still happens", "[background][concurrency]") {
    spur::test::CapturedLog log;
    spur::App app(spur::AppOptions{log.sink()});
    std::atomic<int> runs{0};
    spur::every(app, 20ms, [&]() -> spur::Task<> {
        if (++runs == 2) throw std::runtime_error("purge failed");
        co_return;
    }, "purge");
    net::io_context io;
    spur::Serving(app).start(io.get_executor());
    CHECK(run_until(io, [&] { return runs >= 4 && log.contains("background task 'purge' failed"); }));
    CHECK(runs >= 4);
    CHECK(log.contains("background task 'purge' failed: purge failed"));
    bool done = false;
    spur::Serving(app).stop([&] { done = true; });
    CHECK(run_until(io, [&] { return done; }));
    CHECK(app.extensions().draining());
}

TEST_CASE("stop_background cancels a task mid-await and reports done once it has finished", "[background][concurrency]") {
    spur::App app;
    std::atomic<bool> started{false}, cancelled{false};
    spur::spawn(app, [&]() -> spur::Task<> {
        started = true;
        try {
            co_await sleep_for(60s);
        } catch (const boost::system::system_error& e) {
            cancelled = e.code() == net::error::operation_aborted;
            throw;
        }
    }, "sleeper");
    net::io_context io;
    spur::Serving(app).start(io.get_executor());  // the spawn queued before start runs now
    REQUIRE(run_until(io, [&] { return started.load(); }));
    bool done = false;
    spur::Serving(app).stop([&] { done = true; });
    CHECK(run_until(io, [&] { return done; }));
    CHECK(cancelled);
    CHECK_FALSE(spur::spawn(app, []() -> spur::Task<> { co_return; }));  // refused once stopping
}

TEST_CASE("every() rejects a non-positive interval and registration after serving started", "[background][concurrency]") {
    spur::App app;
    CHECK_THROWS_AS(spur::every(app, 0ms, []() -> spur::Task<> { co_return; }), std::invalid_argument);
    (void)spur::Serving(app);
    CHECK_THROWS_AS(spur::every(app, 1s, []() -> spur::Task<> { co_return; }), std::logic_error);
}

TEST_CASE("a handler spawns work through req.app() and the server's shutdown cancels and awaits it", "[background][concurrency]") {
    spur::App app;
    std::atomic<bool> running{false}, ended{false};
    app.get("/start", [&](spur::Request& req, spur::Response& res) {
        bool ok = spur::spawn(req.app(), [&]() -> spur::Task<> {
            running = true;
            try {
                co_await sleep_for(60s);
            } catch (...) {
                ended = true;
                throw;
            }
        });
        res.status(ok ? 202 : 503).end();
    });
    auto options = spur::test::test_options();
    options.drain_timeout = 5s;
    spur::test::TestServer server(app, options);
    auto r = spur::test::round_trip(server.port(), "GET /start HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(r);
    CHECK(r->result_int() == 202);
    REQUIRE(spur::test::eventually([&] { return running.load(); }));
    const auto before = std::chrono::steady_clock::now();
    server.stop();
    CHECK(ended);
    CHECK(std::chrono::steady_clock::now() - before < 3s);  // cancelled, not waited out
}
