// Graceful shutdown and its drain deadline.
#include <spur/server.hpp>

#include "server/wire_routes.hpp"
#include "support/error_body.hpp"
#include "support/gate.hpp"
#include "support/test_server.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using spur::App;
using spur::Request;
using spur::Response;
using spur::Task;
using spur::test::get;
using spur::test::quiet_app;
using spur::test::RawConnection;
using spur::test::sleep_for;
using spur::test::TestServer;
using spur::test::test_options;

TEST_CASE("graceful shutdown finishes in-flight requests - closes idle ones - then returns", "[server][shutdown][concurrency]") {
    App app;
    spur::test::Gate work;
    app.get("/work", [&work](Request&, Response& res) -> Task<> {
        co_await work.wait();
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
    REQUIRE(work.wait_arrived());  // the request is in flight

    auto start = std::chrono::steady_clock::now();
    std::thread stopper([&] { srv.stop(); });
    CHECK(idle.wait_closed());  // closed right away, not after the drain
    work.open();                // the in-flight request finishes only now, during the drain
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
    std::atomic<bool> started{false};
    app.get("/forever", [&started](Request&, Response& res) -> Task<> {
        started = true;
        co_await sleep_for(std::chrono::hours(1));  // never finishes: the drain deadline is the subject
        res.send("never");
    });
    auto options = test_options();
    options.drain_timeout = std::chrono::milliseconds(200);
    TestServer srv(app, options);
    RawConnection c(srv.port());
    c.send(get("/forever"));
    REQUIRE(spur::test::eventually([&] { return started.load(); }));  // the request is in flight
    auto start = std::chrono::steady_clock::now();
    srv.stop();
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    CHECK(c.wait_closed());
}
