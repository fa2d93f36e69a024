// The server's deadlines: header, idle keep-alive and body.
#include <spur/server.hpp>

#include "server/wire_routes.hpp"
#include "support/sleep.hpp"
#include "support/test_server.hpp"

#include <catch2/catch.hpp>

#include <thread>

using spur::App;
using spur::test::add_basic_routes;
using spur::test::get;
using spur::test::RawConnection;
using spur::test::TestServer;
using spur::test::test_options;

TEST_CASE("a client that stalls mid-header is dropped at the header deadline", "[server][timeouts][concurrency]") {
    App app;
    add_basic_routes(app);
    auto options = test_options();
    options.header_timeout = std::chrono::milliseconds(300);
    TestServer srv(app, options);
    RawConnection c(srv.port());
    c.send("GET / HTTP/1.1\r\nHost: t\r\n");  // never finishes the header
    auto start = std::chrono::steady_clock::now();
    CHECK(c.wait_closed());
    auto waited = std::chrono::steady_clock::now() - start;
    CHECK(waited >= std::chrono::milliseconds(250));
    CHECK(waited < std::chrono::seconds(4));
}

TEST_CASE("a slowloris dribbling header bytes is still cut off by the header deadline", "[server][timeouts][concurrency]") {
    App app;
    add_basic_routes(app);
    auto options = test_options();
    options.header_timeout = std::chrono::milliseconds(400);
    TestServer srv(app, options);
    RawConnection c(srv.port());
    c.send("GET / HTTP/1.1\r\n");
    bool cut_off = false;
    for (int i = 0; i < 40 && !cut_off; ++i) {  // one header byte every 50 ms, for up to 2 s
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the pace is the subject
        cut_off = !c.try_send("X");
    }
    CHECK((cut_off || c.wait_closed()));
}

TEST_CASE("an idle keep-alive connection is closed after the idle timeout", "[server][timeouts][concurrency]") {
    App app;
    add_basic_routes(app);
    auto options = test_options();
    options.idle_timeout = std::chrono::milliseconds(200);
    TestServer srv(app, options);
    RawConnection c(srv.port());
    c.send(get("/"));
    REQUIRE(c.read_response());
    auto start = std::chrono::steady_clock::now();
    CHECK(c.wait_closed());
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
}

TEST_CASE("a client whose body stops arriving is dropped at the body deadline", "[server][timeouts][concurrency]") {
    App app;
    add_basic_routes(app);
    auto options = test_options();
    options.body_timeout = std::chrono::milliseconds(300);
    TestServer srv(app, options);
    RawConnection c(srv.port());
    c.send("POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly-part");
    auto start = std::chrono::steady_clock::now();
    CHECK(c.wait_closed());
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(4));
}

// The deadline binds only while the server waits on the client. Plain TCP checks it with one
// timer that re-arms itself for the deadline it finds when it fires, not one per read.
TEST_CASE("a keep-alive connection busier than its idle timeout stays open", "[server][timeouts][concurrency]") {
    App app;
    add_basic_routes(app);
    auto options = test_options();
    options.idle_timeout = std::chrono::milliseconds(150);
    options.header_timeout = std::chrono::milliseconds(150);
    TestServer srv(app, options);
    RawConnection c(srv.port());
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(900);  // six idle timeouts
    int answered = 0;
    while (std::chrono::steady_clock::now() < until) {
        c.send(get("/echo?v=" + std::to_string(answered)));
        auto r = c.read_response();
        REQUIRE(r);
        CHECK(r->result_int() == 200);
        CHECK(r->body() == std::to_string(answered));
        ++answered;
        std::this_thread::sleep_for(std::chrono::milliseconds(40));  // the pace is the subject
    }
    CHECK(answered >= 10);
    auto start = std::chrono::steady_clock::now();  // and once the client stops, it is closed
    CHECK(c.wait_closed());
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
}

TEST_CASE("a handler slower than the idle and header timeouts still answers on a kept-alive connection",
          "[server][timeouts][concurrency]") {
    App app;
    app.get("/", [](spur::Request&, spur::Response& res) { res.send("root"); });
    app.get("/slower", [](spur::Request&, spur::Response& res) -> spur::Task<> {
        co_await spur::test::sleep_for(std::chrono::milliseconds(600));
        res.send("done");
    });
    auto options = test_options();
    options.idle_timeout = std::chrono::milliseconds(150);
    options.header_timeout = std::chrono::milliseconds(150);
    TestServer srv(app, options);
    RawConnection c(srv.port());
    c.send(get("/"));  // the keep-alive wait that follows sets the idle deadline
    REQUIRE(c.read_response());
    c.send(get("/slower"));
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->result_int() == 200);
    CHECK(r->body() == "done");
    c.send(get("/"));  // still open, and the deadline is re-armed for the next wait
    auto again = c.read_response();
    REQUIRE(again);
    CHECK(again->body() == "root");
    auto start = std::chrono::steady_clock::now();
    CHECK(c.wait_closed());
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
}
