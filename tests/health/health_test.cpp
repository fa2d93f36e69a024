#include <spur/health/health.hpp>

#include <spur/app.hpp>
#include <spur/serving.hpp>
#include <spur/testing/client.hpp>

#include "support/gate.hpp"
#include "support/test_server.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <vector>

using namespace std::chrono_literals;
namespace net = boost::asio;

TEST_CASE("liveness answers 200 ok, uncached", "[health][concurrency]") {
    spur::App app;
    app.get("/healthz", spur::liveness());
    spur::testing::Client client(app);
    auto r = client.get("/healthz");
    CHECK(r.status == 200);
    CHECK(r.body == R"({"status":"ok"})");
    CHECK(r.header("Cache-Control") == "no-store");
}

TEST_CASE("readiness reports each check, and a failing one makes it 503 without the reason", "[health][concurrency]") {
    bool database_up = true;
    spur::App app;
    app.get("/readyz", spur::readiness({.checks = {{"database",
                                                    [&]() -> spur::Task<> {
                                                        if (!database_up) throw std::runtime_error("secret host 10.1.2.3 down");
                                                        co_return;
                                                    }},
                                                   {"cache",
                                                    []() -> spur::Task<> {
                                                        net::steady_timer t(co_await net::this_coro::executor, 5ms);
                                                        co_await t.async_wait(net::use_awaitable);
                                                    }}},
                                        .timeout = 200ms,
                                        .cache_for = 0ms}));  // each request sees the state of now
    spur::testing::Client client(app);
    auto ready = client.get("/readyz");
    CHECK(ready.status == 200);
    CHECK(ready.body == R"({"status":"ready","checks":{"cache":"ok","database":"ok"}})");
    database_up = false;
    auto down = client.get("/readyz");
    CHECK(down.status == 503);
    CHECK(down.body == R"({"status":"unavailable","checks":{"cache":"ok","database":"failed"}})");
    CHECK(down.body.find("10.1.2.3") == std::string::npos);
}

TEST_CASE("a probe slower than the timeout is cancelled and reported as timeout", "[health][concurrency]") {
    spur::App app;
    app.get("/readyz", spur::readiness({.checks = {{"slow",
                                                    []() -> spur::Task<> {
                                                        net::steady_timer t(co_await net::this_coro::executor, 30s);
                                                        co_await t.async_wait(net::use_awaitable);
                                                    }}},
                                        .timeout = 50ms}));
    spur::testing::Client client(app);
    const auto before = std::chrono::steady_clock::now();
    auto r = client.get("/readyz");
    CHECK(std::chrono::steady_clock::now() - before < 5s);
    CHECK(r.status == 503);
    CHECK(r.body == R"({"status":"unavailable","checks":{"slow":"timeout"}})");
}

TEST_CASE("readiness turns 503 draining the moment the app begins to drain, also when it follows another app", "[health][concurrency]") {
    spur::App app, admin;
    app.get("/readyz", spur::readiness());
    admin.get("/readyz", spur::readiness({.follow = &app}));
    spur::testing::Client client(app), admin_client(admin);
    CHECK(client.get("/readyz").status == 200);
    CHECK(admin_client.get("/readyz").status == 200);
    spur::Serving(app).drain();
    auto r = client.get("/readyz");
    CHECK(r.status == 503);
    CHECK(r.body == R"({"status":"draining"})");
    CHECK(admin_client.get("/readyz").body == R"({"status":"draining"})");
}

TEST_CASE("readiness rejects a check without a probe", "[health][concurrency]") {
    CHECK_THROWS_AS(spur::readiness({.checks = {{"db", nullptr}}}), std::invalid_argument);
}

TEST_CASE("on shutdown readiness answers 503 while the listener stays open for drain_delay", "[health][concurrency]") {
    spur::App app;
    app.get("/readyz", spur::readiness());
    app.get("/healthz", spur::liveness());
    auto options = spur::test::test_options();
    options.drain_delay = 600ms;
    spur::test::TestServer server(app, options);
    auto ready = spur::test::round_trip(server.port(), "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(ready);
    CHECK(ready->result_int() == 200);
    const auto begun = std::chrono::steady_clock::now();
    server.server().shutdown();
    REQUIRE(spur::test::eventually([&] { return app.extensions().draining(); }));
    // New connections are still accepted during the delay: the balancer learns from /readyz.
    auto draining = spur::test::round_trip(server.port(), "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(draining);
    CHECK(draining->result_int() == 503);
    CHECK(draining->body() == R"({"status":"draining"})");
    auto live = spur::test::round_trip(server.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(live);
    CHECK(live->result_int() == 200);
    CHECK(std::chrono::steady_clock::now() - begun < 600ms);
    server.stop();
    CHECK(std::chrono::steady_clock::now() - begun >= 600ms);
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket s(io);
    boost::system::error_code ec;
    s.connect({boost::asio::ip::make_address("127.0.0.1"), server.port()}, ec);
    CHECK(ec);  // the listener is closed after the delay
}

namespace {
// A dependency that answers once the test lets it (open()), recording how each probe ended.
struct GatedCheck {
    spur::test::Gate gate;
    std::atomic<int> started{0}, finished{0}, cancelled{0};
    spur::ReadinessCheck check() {
        return {"gate", [this]() -> spur::Task<> {
                    ++started;
                    try {
                        co_await gate.wait();
                    } catch (const boost::system::system_error&) {
                        ++cancelled;
                        throw;
                    }
                    ++finished;
                }};
    }
    void open() { gate.open(); }
};
}  // namespace

TEST_CASE("readiness runs one probe for many concurrent and rapid requests, within cache_for", "[health][concurrency]") {
    GatedCheck gate;
    spur::App app;
    app.get("/readyz", spur::readiness({.checks = {gate.check()}, .timeout = 10s, .cache_for = 60s}));
    spur::test::TestServer server(app);
    std::vector<std::unique_ptr<spur::test::RawConnection>> waiting;
    for (int i = 0; i < 10; ++i) {
        waiting.push_back(std::make_unique<spur::test::RawConnection>(server.port()));
        waiting.back()->send("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    REQUIRE(spur::test::eventually([&] { return gate.started >= 1; }));
    gate.open();
    for (auto& c : waiting) {
        auto r = c->read_response();
        REQUIRE(r);
        CHECK(r->result_int() == 200);
    }
    for (int i = 0; i < 10; ++i) {
        auto r = spur::test::round_trip(server.port(), "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
        REQUIRE(r);
        CHECK(r->result_int() == 200);
    }
    CHECK(gate.started == 1);
}

TEST_CASE("by default readiness probes at most once a second, and again once that second has passed", "[health][concurrency]") {
    std::atomic<int> probes{0};
    spur::App app;
    app.get("/readyz", spur::readiness({.checks = {{"counted", [&]() -> spur::Task<> { ++probes; co_return; }}}}));
    spur::testing::Client client(app);
    // Time is the subject here: three in-process requests take far less than the second.
    CHECK(client.get("/readyz").status == 200);
    CHECK(client.get("/readyz").status == 200);
    CHECK(client.get("/readyz").status == 200);
    CHECK(probes == 1);
    CHECK(spur::test::eventually([&] { return client.get("/readyz").status == 200 && probes == 2; }, 5s));
}

TEST_CASE("a client that leaves during readiness does not abort the probe - the next request gets its outcome",
          "[health][concurrency]") {
    GatedCheck gate;
    std::atomic<bool> left{false};
    spur::App app;
    app.use([&](spur::Request&, spur::Response&, spur::Next next) -> spur::Task<> {
        try {
            co_await next();
        } catch (const boost::system::system_error& e) {
            if (e.code() == net::error::operation_aborted) left = true;
            throw;
        }
    });
    app.get("/readyz", spur::readiness({.checks = {gate.check()}, .timeout = 10s, .cache_for = 60s}));
    spur::test::TestServer server(app);
    {
        spur::test::RawConnection c(server.port());
        c.send("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
        REQUIRE(spur::test::eventually([&] { return gate.started == 1; }));
    }
    // The server cancels the handler (before the change, that cancelled the probe with it).
    REQUIRE(spur::test::eventually([&] { return left.load() || gate.cancelled > 0; }));
    gate.open();
    CHECK(spur::test::eventually([&] { return gate.finished == 1; }));
    CHECK(gate.cancelled == 0);
    auto r = spur::test::round_trip(server.port(), "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(r);
    CHECK(r->result_int() == 200);
    CHECK(gate.started == 1);
}
