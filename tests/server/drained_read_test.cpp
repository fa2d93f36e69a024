// A read that empties the socket marks it drained, and the next read waits for the socket to
// become readable instead of trying first (server/drained_read.hpp). Bytes that arrive after
// a drained read must still be read: the pieces of a body sent one at a time, each only once
// the server has taken the last; requests sent one at a time on a kept-alive connection; a
// pipelined burst after a drained read; a body larger than a read.
#include <spur/app.hpp>

#include "support/test_server.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <string>

namespace drained_read_test {
using namespace spur;
using spur::test::eventually;
using spur::test::RawConnection;
using spur::test::TestServer;

TEST_CASE("body pieces sent each after the server read the last are all read", "[server][body][concurrency]") {
    App app;
    std::atomic<std::size_t> received{0};
    app.post("/pieces", [&received](Request& req, Response& res) -> Task<> {
           std::string all;
           for (;;) {
               const std::string_view piece = co_await req.read_body_chunk();
               if (piece.empty()) break;
               all.append(piece);
               received = all.size();
           }
           res.send(all);
       })
        .stream_body();
    TestServer srv(app);

    RawConnection c(srv.port());
    c.send("POST /pieces HTTP/1.1\r\nHost: t\r\nContent-Length: 15\r\n\r\naaaaa");
    REQUIRE(eventually([&] { return received == 5; }));  // read; the socket is empty again
    c.send("bbbbb");
    REQUIRE(eventually([&] { return received == 10; }));
    c.send("ccccc");
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->result_int() == 200);
    CHECK(r->body() == "aaaaabbbbbccccc");
}

TEST_CASE("requests sent one at a time, a pipelined burst and a large body on one connection are all answered",
          "[server][keepalive][concurrency]") {
    App app;
    app.get("/n/:n", [](Request& req, Response& res) { res.send(std::string(req.param("n"))); });
    app.post("/size", [](Request& req, Response& res) { res.send(std::to_string(req.body().size())); })
        .body_limit(4 << 20);
    TestServer srv(app);

    RawConnection c(srv.port());
    // Each answer is awaited before the next request: every read after the first finds the
    // socket drained by the one before.
    for (int i = 0; i < 50; ++i) {
        c.send("GET /n/" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n\r\n");
        auto r = c.read_response();
        REQUIRE(r);
        CHECK(r->body() == std::to_string(i));
    }
    std::string burst;
    for (int i = 0; i < 20; ++i) burst += "GET /n/" + std::to_string(100 + i) + " HTTP/1.1\r\nHost: t\r\n\r\n";
    c.send(burst);
    for (int i = 0; i < 20; ++i) {
        auto r = c.read_response();
        REQUIRE(r);
        CHECK(r->body() == std::to_string(100 + i));
    }
    // Several reads' worth: reads that fill their buffer leave the socket marked readable.
    const std::string body(3 << 20, 'x');
    c.send("POST /size HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->result_int() == 200);
    CHECK(r->body() == std::to_string(body.size()));
    c.send("GET /n/last HTTP/1.1\r\nHost: t\r\n\r\n");
    r = c.read_response();
    REQUIRE(r);
    CHECK(r->body() == "last");
}

}  // namespace drained_read_test
