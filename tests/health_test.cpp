#include <spur/health.hpp>

#include <spur/app.hpp>
#include <spur/testing/client.hpp>

#include "support/test_server.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
namespace net = boost::asio;

TEST_CASE("liveness answers 200 ok, uncached", "[health]") {
    spur::App app;
    app.get("/healthz", spur::liveness());
    spur::testing::Client client(app);
    auto r = client.get("/healthz");
    CHECK(r.status == 200);
    CHECK(r.body == R"({"status":"ok"})");
    CHECK(r.header("Cache-Control") == "no-store");
}

TEST_CASE("readiness reports each check, and a failing one makes it 503 without the reason", "[health]") {
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
                                        .timeout = 200ms}));
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

TEST_CASE("a probe slower than the timeout is cancelled and reported as timeout", "[health]") {
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

TEST_CASE("readiness turns 503 draining the moment the app begins to drain, also when it follows another app", "[health]") {
    spur::App app, admin;
    app.get("/readyz", spur::readiness());
    admin.get("/readyz", spur::readiness({.follow = &app}));
    spur::testing::Client client(app), admin_client(admin);
    CHECK(client.get("/readyz").status == 200);
    CHECK(admin_client.get("/readyz").status == 200);
    app.begin_drain();
    auto r = client.get("/readyz");
    CHECK(r.status == 503);
    CHECK(r.body == R"({"status":"draining"})");
    CHECK(admin_client.get("/readyz").body == R"({"status":"draining"})");
}

TEST_CASE("readiness rejects a check without a probe", "[health]") {
    CHECK_THROWS_AS(spur::readiness({.checks = {{"db", nullptr}}}), std::invalid_argument);
}

TEST_CASE("on shutdown readiness answers 503 while the listener stays open for drain_delay", "[health]") {
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
    REQUIRE(spur::test::eventually([&] { return app.draining(); }));
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
