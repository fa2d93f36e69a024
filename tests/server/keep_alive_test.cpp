// Persistent connections: keep-alive, pipelined order, Connection: close, HTTP/1.0.
#include <spur/server.hpp>

#include "server/wire_routes.hpp"
#include "support/test_server.hpp"

#include <catch2/catch.hpp>

using spur::App;
using spur::test::add_basic_routes;
using spur::test::get;
using spur::test::RawConnection;
using spur::test::TestServer;

TEST_CASE("keep-alive serves several requests on one connection", "[server][concurrency]") {
    App app;
    add_basic_routes(app);
    TestServer srv(app);
    RawConnection c(srv.port());
    for (int i = 0; i < 5; ++i) {
        c.send(get("/echo?v=" + std::to_string(i)));
        auto r = c.read_response();
        REQUIRE(r);
        CHECK(r->body() == std::to_string(i));
        CHECK(r->keep_alive());
    }
}

TEST_CASE("pipelined requests are answered in order", "[server][concurrency]") {
    App app;
    add_basic_routes(app);
    TestServer srv(app);
    RawConnection c(srv.port());
    c.send(get("/slow") + get("/echo?v=second") +
           "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nabcd" + get("/echo?v=fourth"));
    std::vector<std::string> bodies;
    for (int i = 0; i < 4; ++i) {
        auto r = c.read_response();
        REQUIRE(r);
        bodies.push_back(r->body());
    }
    CHECK(bodies == std::vector<std::string>{"slow", "second", "got 4", "fourth"});
}

TEST_CASE("Connection: close is honoured", "[server][concurrency]") {
    App app;
    add_basic_routes(app);
    TestServer srv(app);
    RawConnection c(srv.port());
    c.send(get("/", "Connection: close\r\n"));
    auto r = c.read_response();
    REQUIRE(r);
    CHECK((*r)["Connection"] == "close");
    CHECK(c.wait_closed());
}

TEST_CASE("HTTP/1.0 closes by default and keeps alive when asked", "[server][concurrency]") {
    App app;
    add_basic_routes(app);
    TestServer srv(app);
    {
        RawConnection c(srv.port());
        c.send("GET / HTTP/1.0\r\n\r\n");
        auto r = c.read_response();
        REQUIRE(r);
        CHECK(r->version() == 10);
        CHECK(r->body() == "root");
        CHECK(c.wait_closed());
    }
    {
        RawConnection c(srv.port());
        c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        auto r = c.read_response();
        REQUIRE(r);
        CHECK((*r)["Connection"] == "keep-alive");
        c.send("GET /echo?v=again HTTP/1.0\r\n\r\n");
        auto r2 = c.read_response();
        REQUIRE(r2);
        CHECK(r2->body() == "again");
    }
}
