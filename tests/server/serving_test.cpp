// What every exchange over a real socket gets: the port, the headers the server writes, HEAD,
// errors, offloaded work, streamed and large responses, absolute-form targets.
#include <spur/server.hpp>

#include <spur/offload.hpp>

#include "server/wire_routes.hpp"
#include "support/test_server.hpp"

#include <catch2/catch.hpp>

#include <sys/ioctl.h>

#include <future>
#include <map>
#include <mutex>

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

TEST_CASE("binding port 0 reports the real port and serves on it", "[server][concurrency]") {
    App app;
    add_basic_routes(app);
    TestServer srv(app);
    REQUIRE(srv.port() != 0);
    auto r = round_trip(srv.port(), get("/"));
    REQUIRE(r);
    CHECK(r->result_int() == 200);
    CHECK(r->body() == "root");
    CHECK((*r)["Server"] == "spur");
}

TEST_CASE("Date and Server and Content-Length go out once each - written by the server, not in the header hooks see",
          "[server][concurrency]") {
    // The server writes these three itself instead of adding them to the response's header,
    // with finish hooks or without: the hooks see the header the app set, and bytes_sent().
    // Ones the app set itself go out once, as set.
    App app;
    std::mutex mutex;
    std::string seen;
    app.get("/plain", [](Request&, Response& res) { res.send("hello"); });
    app.get("/hooked", [&](Request&, Response& res) {
        res.on_finish([&](Response& r) {
            std::lock_guard lock(mutex);
            seen = std::string(r.get("Content-Length")) + "|" + std::string(r.get("Server")) + "|" +
                   std::to_string(r.get("Date").size()) + "|" + std::to_string(r.bytes_sent());
        });
        res.send("hello");
    });
    app.get("/own", [](Request&, Response& res) {
        res.set("Server", "mine");
        res.set("Content-Length", "999");
        res.send("hello");
    });
    TestServer srv(app);
    const auto check = [](const spur::test::RawResponse& r, std::string_view server) {
        std::map<std::string, int> count;
        for (const auto& field : r) ++count[std::string(field.name_string())];
        CHECK(count["Date"] == 1);
        CHECK(count["Server"] == 1);
        CHECK(count["Content-Length"] == 1);
        CHECK(r[boost::beast::http::field::date].size() == 29);
        CHECK(r[boost::beast::http::field::date].ends_with(" GMT"));
        CHECK(r[boost::beast::http::field::server] == server);
        CHECK(r[boost::beast::http::field::content_length] == "5");
    };
    RawConnection c(srv.port());
    c.send(get("/plain"));
    auto plain = c.read_response();
    REQUIRE(plain);
    CHECK(plain->body() == "hello");
    check(*plain, "spur");
    c.send("HEAD /plain HTTP/1.1\r\nHost: t\r\n\r\n");
    auto head = c.read_response(true);
    REQUIRE(head);
    check(*head, "spur");
    c.send(get("/own") + get("/hooked") + get("/plain"));  // pipelined: one batch
    for (std::string_view server : {"mine", "spur", "spur"}) {
        auto r = c.read_response();
        REQUIRE(r);
        CHECK(r->body() == "hello");
        check(*r, server);
    }
    CHECK(spur::test::eventually([&] {
        std::lock_guard lock(mutex);
        return seen == "||0|5";
    }));
}

TEST_CASE("HEAD over the wire has Content-Length and no body", "[server][concurrency]") {
    App app;
    add_basic_routes(app);
    TestServer srv(app);
    RawConnection c(srv.port());
    c.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\n" + get("/echo?v=next"));
    auto h = c.read_response(true);
    REQUIRE(h);
    CHECK((*h)["Content-Length"] == "4");
    auto next = c.read_response();
    REQUIRE(next);
    CHECK(next->body() == "next");  // no stray body bytes between the two
}

TEST_CASE("a throwing handler answers 500 and the server keeps serving", "[server][errors][concurrency]") {
    App app = quiet_app();
    add_basic_routes(app);
    app.get("/boom", [](Request&, Response&) { throw std::runtime_error("secret detail"); });
    app.get("/boom-async", [](Request&, Response&) -> Task<> {
        co_await sleep_for(std::chrono::milliseconds(1));
        throw 42;  // not even a std::exception
    });
    TestServer srv(app);
    RawConnection c(srv.port());
    for (auto path : {"/boom", "/boom-async"}) {
        c.send(get(path));
        auto r = c.read_response();
        REQUIRE(r);
        CHECK(r->result_int() == 500);
        CHECK(r->body().find("secret") == std::string::npos);
    }
    c.send(get("/"));  // same connection still usable
    auto ok = c.read_response();
    REQUIRE(ok);
    CHECK(ok->body() == "root");
}

TEST_CASE("offloaded blocking work does not stall other connections - even on one I/O thread", "[server][offload][concurrency]") {
    App app;
    std::promise<void> release;
    auto released = release.get_future().share();
    app.get("/blocking", [&released](Request&, Response& res) -> Task<> {
        co_await spur::offload([&released] { released.wait(); });
        res.send("unblocked");
    });
    app.get("/fast", [](Request&, Response& res) { res.send("fast"); });
    auto options = test_options();
    options.threads = 1;
    TestServer srv(app, options);

    RawConnection blocked(srv.port());
    blocked.send(get("/blocking"));
    // If the blocking call held the only I/O thread, this read would time out.
    auto fast = round_trip(srv.port(), get("/fast"));
    REQUIRE(fast);
    CHECK(fast->body() == "fast");
    release.set_value();
    auto slow = blocked.read_response();
    REQUIRE(slow);
    CHECK(slow->body() == "unblocked");
}

TEST_CASE("streamed responses go out chunked - or with their declared length", "[server][concurrency]") {
    App app;
    app.get("/chunks", [](Request&, Response& res) {
        res.stream([](spur::BodyWriter& w) -> Task<> {
            for (int i = 0; i < 3; ++i) {
                co_await w.write("line " + std::to_string(i) + "\n");
                co_await sleep_for(std::chrono::milliseconds(5));
            }
        });
    });
    app.get("/sized", [](Request&, Response& res) {
        res.stream([](spur::BodyWriter& w) -> Task<> { co_await w.write("abcde"); }, 5);
    });
    TestServer srv(app);
    RawConnection c(srv.port());
    c.send(get("/chunks"));
    auto r = c.read_response();
    REQUIRE(r);
    CHECK((*r)["Transfer-Encoding"] == "chunked");
    CHECK(r->body() == "line 0\nline 1\nline 2\n");
    c.send(get("/sized"));
    auto s = c.read_response();
    REQUIRE(s);
    CHECK((*s)["Content-Length"] == "5");
    CHECK(s->body() == "abcde");
}

TEST_CASE("absolute-form targets are routed by their path", "[server][concurrency]") {
    App app;
    add_basic_routes(app);
    TestServer srv(app);
    auto r = round_trip(srv.port(), "GET http://t/echo?v=abs HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(r);
    CHECK(r->body() == "abs");
}

TEST_CASE("a buffered response larger than the socket buffer arrives whole and in order", "[server][concurrency]") {
    // The first part leaves in one non-blocking write, the rest asynchronously once the
    // client reads: the bytes must join up exactly.
    std::string big(4 * 1024 * 1024, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
    App app = quiet_app();
    app.get("/big", [&big](Request&, Response& res) { res.send(big); });
    add_basic_routes(app);
    TestServer srv(app);
    RawConnection c(srv.port());
    c.send(get("/big") + get("/echo?v=after"));
    // Read only once the first bytes wait in our socket: the server wrote before this client
    // read a byte, so the 4 MiB met full socket buffers and the rest had to wait for the reads.
    REQUIRE(spur::test::eventually([&] {
        int queued = 0;
        return ::ioctl(c.native_handle(), FIONREAD, &queued) == 0 && queued > 0;
    }));
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->body().size() == big.size());
    CHECK(r->body() == big);
    auto next = c.read_response();
    REQUIRE(next);
    CHECK(next->body() == "after");
}
