// Reads at the edges of a connection's life, where a read that decides not to try the socket
// would wait for an epoll event that never comes: body pieces and requests that arrive only
// after the server has read everything before them; a pipelined burst and a large body on a
// kept-alive connection; a FIN queued behind a request or behind half of one; a request cut
// by an urgent byte. Written for session 26's "drained reads" (reverted: docs/benchmarks.md,
// #38), whose first version failed three of them; they hold any read optimisation to the same.
#include <spur/app.hpp>

#include "support/test_server.hpp"

#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <string>

namespace read_edges_test {
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

namespace {
// A server whose timeouts are far beyond the test's: a connection the server forgets to read
// shows as a client that waits in vain, not as a timeout that tidies up.
ServerOptions patient_options() {
    auto options = spur::test::test_options();
    options.header_timeout = std::chrono::seconds(60);
    options.idle_timeout = std::chrono::seconds(60);
    return options;
}

void add_big_route(App& app) {
    app.get("/big", [](Request&, Response& res) { res.send(std::string(12 << 20, 'b')); });
    app.get("/n/:n", [](Request& req, Response& res) { res.send(std::string(req.param("n"))); });
}

// Asks for 12 MiB and waits until the first bytes arrive: the server is then busy writing the
// rest to a client that does not read, and what the client sends next waits in the server's
// socket, to be read in one go once the answer is out.
void start_big_answer(RawConnection& c) {
    c.send("GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
    char first;
    REQUIRE(::recv(c.native_handle(), &first, 1, MSG_PEEK) == 1);
}
}  // namespace

TEST_CASE("a request and a FIN read in one go: the request is answered and the connection closed at once",
          "[server][keepalive][concurrency]") {
    App app;
    add_big_route(app);
    TestServer srv(app, patient_options());

    RawConnection c(srv.port());
    start_big_answer(c);
    c.send("GET /n/2 HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(::shutdown(c.native_handle(), SHUT_WR) == 0);  // the FIN queues behind the request
    auto big = c.read_response();
    REQUIRE(big);
    CHECK(big->body().size() == (12u << 20));
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->body() == "2");
    CHECK(c.wait_closed());  // not after the 60 s idle timeout: RawConnection gives up after 5 s
}

TEST_CASE("half a request and a FIN read in one go: the connection is closed at once", "[server][keepalive][concurrency]") {
    App app;
    add_big_route(app);
    TestServer srv(app, patient_options());

    RawConnection c(srv.port());
    start_big_answer(c);
    c.send("GET /n/2 HTTP/1.1\r\nHo");
    REQUIRE(::shutdown(c.native_handle(), SHUT_WR) == 0);
    auto big = c.read_response();
    REQUIRE(big);
    CHECK(c.wait_closed());
}

TEST_CASE("a request cut by an urgent byte is read past the mark and answered", "[server][keepalive][concurrency]") {
    App app;
    add_big_route(app);
    TestServer srv(app, patient_options());

    RawConnection c(srv.port());
    start_big_answer(c);
    c.send("GET /n/urgent HTTP/1.1\r\nHo");
    // Out of band, the byte leaves the stream; a read stops at its mark with more to come.
    REQUIRE(::send(c.native_handle(), "X", 1, MSG_OOB) == 1);
    c.send("st: t\r\n\r\n");
    auto big = c.read_response();
    REQUIRE(big);
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->body() == "urgent");
}

}  // namespace read_edges_test
