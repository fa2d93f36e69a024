// Limits a request meets before its handler: body size (413), Expect (100/417), header and
// request-line size (431/414).
#include <spur/server.hpp>

#include "server/wire_routes.hpp"
#include "support/error_body.hpp"
#include "support/test_server.hpp"

#include <catch2/catch.hpp>

using spur::App;
using spur::Request;
using spur::Response;
using spur::test::add_basic_routes;
using spur::test::get;
using spur::test::RawConnection;
using spur::test::round_trip;
using spur::test::TestServer;
using spur::test::test_options;

TEST_CASE("a body over the limit is 413 before it is read - per-route limits override", "[server][limits][concurrency]") {
    App app;
    add_basic_routes(app);
    app.post("/small", [](Request& req, Response& res) { res.send(req.body()); }).body_limit(10);
    auto options = test_options();
    options.max_body_bytes = 1000;
    TestServer srv(app, options);

    // Only the header is sent: the answer must not wait for 5000 bytes of body.
    auto big = round_trip(srv.port(), "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n");
    REQUIRE(big);
    CHECK(big->result_int() == 413);
    CHECK(spur::test::without_request_id(big->body()) ==
          boost::json::parse(R"({"success":false,"error":{"code":"payload_too_large","message":"Request body too large"}})"));

    auto fits = round_trip(srv.port(), "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n" + std::string(1000, 'x'));
    REQUIRE(fits);
    CHECK(fits->body() == "got 1000");

    auto small = round_trip(srv.port(), "POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world");
    REQUIRE(small);
    CHECK(small->result_int() == 413);
    auto small_ok = round_trip(srv.port(), "POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
    REQUIRE(small_ok);
    CHECK(small_ok->body() == "hello");

    // Chunked bodies have no length up front; the limit applies as chunks arrive.
    std::string chunk(600, 'y');
    auto chunked = round_trip(srv.port(), "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n" +
                                              chunk + "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n");
    REQUIRE(chunked);
    CHECK(chunked->result_int() == 413);
}

TEST_CASE("Expect: 100-continue gets an interim response - other expectations 417", "[server][concurrency]") {
    App app;
    add_basic_routes(app);
    TestServer srv(app);
    RawConnection c(srv.port());
    c.send("POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
    auto interim = c.read_response();
    REQUIRE(interim);
    CHECK(interim->result_int() == 100);
    c.send("abc");
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->body() == "got 3");

    auto weird = round_trip(srv.port(), "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: magic\r\n\r\nabc");
    REQUIRE(weird);
    CHECK(weird->result_int() == 417);
}

TEST_CASE("oversized header is 431 and overlong request line is 414", "[server][limits][concurrency]") {
    App app;
    add_basic_routes(app);
    auto options = test_options();
    options.max_header_bytes = 1024;
    options.max_request_line = 256;
    TestServer srv(app, options);
    auto h = round_trip(srv.port(), get("/", "X-Big: " + std::string(2000, 'a') + "\r\n"));
    REQUIRE(h);
    CHECK(h->result_int() == 431);
    CHECK(h->body().find("headers_too_large") != std::string::npos);
    auto u = round_trip(srv.port(), get("/echo?v=" + std::string(300, 'u')));
    REQUIRE(u);
    CHECK(u->result_int() == 414);
    auto ok = round_trip(srv.port(), get("/echo?v=" + std::string(200, 'u')));
    REQUIRE(ok);
    CHECK(ok->result_int() == 200);
}
