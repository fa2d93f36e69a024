// Ambiguous or malformed message framing over the wire: refused, the connection closed, nothing
// smuggled after it answered.
#include <spur/server.hpp>

#include "server/wire_routes.hpp"
#include "support/test_server.hpp"

#include <catch2/catch.hpp>

using spur::App;
using spur::test::add_basic_routes;
using spur::test::get;
using spur::test::RawConnection;
using spur::test::round_trip;
using spur::test::TestServer;

namespace {
struct FramingCase {
    const char* name;
    std::string request;
    int status;
};
}  // namespace

TEST_CASE("ambiguous or malformed framing is refused - the connection closed - and nothing after it answered",
          "[server][framing][concurrency]") {
    App app;
    add_basic_routes(app);
    TestServer srv(app);
    const std::string smuggled = get("/echo?v=SMUGGLED");
    const std::vector<FramingCase> cases = {
        {"TE gzip then CL", "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello", 400},
        {"CL then TE chunked", "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
        {"TE chunked then CL", "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400},
        {"HTTP/1.0 with TE chunked", "POST /body HTTP/1.0\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400},
        {"TE chunked, gzip", "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 501},
        {"TE xchunked", "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 501},
        {"TE identity", "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: identity\r\n\r\n", 501},
        {"missing Host on 1.1", "GET / HTTP/1.1\r\n\r\n", 400},
        {"duplicate Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
        {"Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
        {"obs-fold", "GET / HTTP/1.1\r\nHost: t\r\nX-A: a\r\n b\r\n\r\n", 400},
        {"bare LF", "GET / HTTP/1.1\nHost: t\n\n", 400},
        {"bare CR", "GET / HTTP/1.1\r\nHost: t\rX: y\r\n\r\n", 400},
        {"NUL in header", std::string("GET / HTTP/1.1\r\nHost: t\r\nX: a\0b\r\n\r\n", 33), 400},
        {"CL list 1,1", "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 1,1\r\n\r\nx", 400},
        {"CL +5", "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: +5\r\n\r\nhello", 400},
        {"differing CLs", "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx", 400},
        {"space before colon", "GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400},
        {"HTTP/1.2", "GET / HTTP/1.2\r\nHost: t\r\n\r\n", 400},
        {"garbage", "HELLO\r\n\r\n", 400},
        {"relative target", "GET abc HTTP/1.1\r\nHost: t\r\n\r\n", 400},
        {"CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 501},
        {"bad chunk size", "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400},
        {"0x chunk size", "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", 400},
        {"chunk LF-only", "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n", 400},
        // After llhttp's and nginx's published behaviour:
        {"TE on a continuation line", "POST /body HTTP/1.1\r\nHost: t\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
        {"TE chunked twice", "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
        {"chunk size overflow", "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nhello\r\n0\r\n\r\n", 400},
        {"negative chunk size", "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", 400},
        {"bare CR in chunk extension", "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\rc\r\nhello\r\n0\r\n\r\n", 400},
        {"empty Content-Length", "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length:\r\n\r\nhello", 400},
        {"NUL in request line", std::string("GET /\0 HTTP/1.1\r\nHost: t\r\n\r\n", 28), 400},
        {"tab in header name", "GET / HTTP/1.1\r\nHost: t\r\nX\tY: z\r\n\r\n", 400},
        {"request line over 8 KiB", "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: t\r\n\r\n", 414},
        {"header block over 16 KiB", "GET / HTTP/1.1\r\nHost: t\r\nX: " + std::string(17000, 'a') + "\r\n\r\n", 431},
    };
    for (const auto& tc : cases) {
        INFO(tc.name);
        RawConnection c(srv.port());
        c.try_send(tc.request + smuggled);  // the server may close before reading it all
        auto r = c.read_response();
        REQUIRE(r);
        CHECK(static_cast<int>(r->result_int()) == tc.status);
        CHECK((*r)["Connection"] == "close");
        CHECK((*r)["Content-Type"] == "application/json");
        CHECK(r->body().find("SMUGGLED") == std::string::npos);
        CHECK_FALSE(c.read_response());  // the smuggled request is never answered
    }
    // and the server is still fine
    auto after = round_trip(srv.port(), get("/"));
    REQUIRE(after);
    CHECK(after->result_int() == 200);
}

TEST_CASE("chunked trailers never become request headers", "[server][framing][concurrency]") {
    App app;
    add_basic_routes(app);
    TestServer srv(app);
    auto r = round_trip(srv.port(),
                        "POST /auth HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "5\r\nhello\r\n0\r\nAuthorization: Bearer injected\r\n\r\n");
    REQUIRE(r);
    CHECK(r->result_int() == 200);
    CHECK(r->body() == "auth=[] body=hello");
}

TEST_CASE("oversized chunk extensions and trailers are refused and the server keeps serving", "[server][framing][concurrency]") {
    App app;
    add_basic_routes(app);
    TestServer srv(app);
    const std::string head = "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (const std::string& body : {"5;ext=" + std::string(200000, 'e') + "\r\nhello\r\n0\r\n\r\n",
                                    "5\r\nhello\r\n0\r\nX-Big: " + std::string(70000, 't') + "\r\n\r\n"}) {
        RawConnection c(srv.port());
        c.try_send(head + body);
        auto r = c.read_response();
        REQUIRE(r);
        CHECK(r->result_int() == 400);
    }
    auto after = round_trip(srv.port(), get("/"));
    REQUIRE(after);
    CHECK(after->body() == "root");
}

TEST_CASE("trailers count against the header field cap - a few are accepted, more are refused", "[server][framing][concurrency]") {
    App app;
    add_basic_routes(app);
    TestServer srv(app);  // max_header_fields: 100
    const auto post_with_trailers = [&](int count) {
        std::string trailers;
        for (int i = 0; i < count; ++i) trailers += "t" + std::to_string(i) + ": v\r\n";
        return round_trip(srv.port(), "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                                      "5\r\nhello\r\n0\r\n" + trailers + "\r\n");
    };
    auto few = post_with_trailers(10);
    REQUIRE(few);
    CHECK(few->result_int() == 200);
    CHECK(few->body() == "got 5");
    auto many = post_with_trailers(3000);
    REQUIRE(many);
    CHECK(many->result_int() == 400);
    CHECK(many->body().find("Too many trailer fields") != std::string::npos);
}
