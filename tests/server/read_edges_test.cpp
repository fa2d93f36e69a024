// Reads at the edges of a connection's life, where a read that decides not to try the socket
// would wait for an epoll event that never comes: body pieces and requests that arrive only
// after the server has read everything before them; a pipelined burst and a large body on a
// kept-alive connection; a FIN queued behind a request or behind half of one; a request cut
// by an urgent byte. Written for session 26's "drained reads" (reverted: docs/benchmarks.md,
// #38), whose first version failed three of them; they hold any read optimisation to the same.
#include <spur/app.hpp>

#include "support/test_server.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
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

TEST_CASE("half a request and a reset arriving together: the connection is closed at once, not at the header timeout",
          "[server][keepalive][concurrency]") {
    App app;
    add_big_route(app);
    TestServer srv(app, patient_options());

    // Each client's first request is answered; the half request and the reset then leave
    // back to back, and often reach the server in one batch: its read takes the bytes, finds
    // nothing left to read, and the reset's epoll edge is already spent.
    constexpr int clients = 100;
    for (int i = 0; i < clients; ++i) {
        RawConnection c(srv.port());
        c.send("GET /n/" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n\r\n");
        auto r = c.read_response();
        REQUIRE(r);
        c.send("GET /n/x HTTP/1.1\r\nHo");
        const ::linger reset{1, 0};  // close() then sends RST
        REQUIRE(::setsockopt(c.native_handle(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset) == 0);
    }
    // The header timeout is 60 s: a connection whose reset went unseen is still open.
    CHECK(eventually([&] { return srv.server().stats().open_connections == 0; }));
    INFO("open connections: " << srv.server().stats().open_connections);
    CHECK(srv.server().stats().open_connections == 0);
}

TEST_CASE("a unix-socket client that passes descriptors leaves none open in the server", "[server][keepalive][concurrency]") {
    App app;
    app.get("/n/:n", [](Request& req, Response& res) { res.send(std::string(req.param("n"))); });
    auto options = spur::test::test_options();
    const std::string path = "/tmp/spur-read-edges-" + std::to_string(::getpid()) + ".sock";
    options.unix_path = path;
    TestServer srv(app, options);

    const auto open_descriptors = [] {
        std::size_t n = 0;
        for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
        return n;
    };
    // Each request's bytes carry a descriptor (SCM_RIGHTS): the server's reads must not take
    // it in (on a unix socket spur reads as Asio does; recvmsg() with a control buffer would).
    // The first client warms the server up (what it opens once, on first use); the count
    // starts after it.
    std::size_t before = 0;
    for (int i = 0; i < 21; ++i) {
        if (i == 1) {
            REQUIRE(eventually([&] { return srv.server().stats().open_connections == 0; }));
            before = open_descriptors();
        }
        const int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
        REQUIRE(s >= 0);
        ::sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
        REQUIRE(::connect(s, reinterpret_cast<::sockaddr*>(&address), sizeof address) == 0);
        for (int j = 0; j < 3; ++j) {  // the first read, then reads of a next request
            const std::string request = "GET /n/" + std::to_string(j) + " HTTP/1.1\r\nHost: t\r\n\r\n";
            ::iovec iov{const_cast<char*>(request.data()), request.size()};
            alignas(::cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
            ::msghdr message{};
            message.msg_iov = &iov;
            message.msg_iovlen = 1;
            message.msg_control = control;
            message.msg_controllen = sizeof control;
            ::cmsghdr* c = CMSG_FIRSTHDR(&message);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            const int passed = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            REQUIRE(passed >= 0);
            std::memcpy(CMSG_DATA(c), &passed, sizeof passed);
            const auto sent = ::sendmsg(s, &message, MSG_NOSIGNAL);
            ::close(passed);
            REQUIRE(sent == static_cast<::ssize_t>(request.size()));
            std::string answer;
            char buffer[512];
            while (answer.find("\r\n\r\n") == std::string::npos || answer.back() != static_cast<char>('0' + j)) {
                const auto n = ::recv(s, buffer, sizeof buffer, 0);
                REQUIRE(n > 0);
                answer.append(buffer, static_cast<std::size_t>(n));
            }
            CHECK(answer.rfind("HTTP/1.1 200", 0) == 0);
        }
        ::close(s);
    }
    CHECK(eventually([&] { return srv.server().stats().open_connections == 0; }));
    // The test's own descriptors are back to where they were; any the server took in are not.
    CHECK(eventually([&] { return open_descriptors() <= before; }));
    INFO("descriptors before " << before << ", now " << open_descriptors());
    CHECK(open_descriptors() <= before);
    ::unlink(path.c_str());
}

}  // namespace read_edges_test
