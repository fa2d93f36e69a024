// The server's deadlines: header, idle keep-alive and body.
#include <spur/server.hpp>

#include "server/wire_routes.hpp"
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
