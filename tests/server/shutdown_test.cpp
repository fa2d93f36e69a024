// Graceful shutdown and its drain deadline.
#include <spur/server.hpp>

#include <spur/offload.hpp>

#include "server/wire_routes.hpp"
#include "support/error_body.hpp"
#include "support/test_server.hpp"

#include <catch2/catch.hpp>

#include <future>
#include <map>
#include <mutex>
#include <thread>

using spur::App;
using spur::Request;
using spur::Response;
using spur::Task;
using spur::test::add_basic_routes;
using spur::test::get;
using spur::test::quiet_app;
using spur::test::RawConnection;
using spur::test::round_trip;
using spur::test::sleep_for;
using spur::test::TestServer;
using spur::test::test_options;

TEST_CASE("graceful shutdown finishes in-flight requests - closes idle ones - then returns", "[server][shutdown][concurrency]") {
    App app;
    app.get("/work", [](Request&, Response& res) -> Task<> {
        co_await sleep_for(std::chrono::milliseconds(400));
        res.send("finished");
    });
    app.get("/", [](Request&, Response& res) { res.send("root"); });
    TestServer srv(app);
    const auto port = srv.port();

    RawConnection idle(port);
    idle.send(get("/"));
    REQUIRE(idle.read_response());

    RawConnection busy(port);
    busy.send(get("/work"));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the request is in flight

    auto start = std::chrono::steady_clock::now();
    std::thread stopper([&] { srv.stop(); });
    CHECK(idle.wait_closed());  // closed right away, not after the drain
    auto r = busy.read_response();
    REQUIRE(r);
    CHECK(r->body() == "finished");
    CHECK((*r)["Connection"] == "close");
    stopper.join();
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));

    boost::asio::io_context io;
    boost::asio::ip::tcp::socket s(io);
    boost::system::error_code ec;
    s.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
    CHECK(ec);  // no longer accepting
}

TEST_CASE("drain_timeout bounds shutdown when a handler never finishes", "[server][shutdown][concurrency]") {
    App app = quiet_app();
    app.get("/forever", [](Request&, Response& res) -> Task<> {
        co_await sleep_for(std::chrono::hours(1));
        res.send("never");
    });
    auto options = test_options();
    options.drain_timeout = std::chrono::milliseconds(200);
    TestServer srv(app, options);
    RawConnection c(srv.port());
    c.send(get("/forever"));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto start = std::chrono::steady_clock::now();
    srv.stop();
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    CHECK(c.wait_closed());
}
