// ServerOptions::max_connections and max_connections_per_ip over real sockets: past a cap
// a new connection is closed unanswered, an idle keep-alive connection is shed first, and
// trusted proxies are exempt from the per-client cap. Other clients come from other
// loopback addresses (127.0.0.2, ...), which Linux routes to the same host.
#include <spur/app.hpp>

#include "support/gate.hpp"
#include "support/test_server.hpp"

#include <catch2/catch.hpp>

#include <memory>

using namespace spur;
using spur::test::eventually;
using spur::test::Gate;
using spur::test::RawConnection;
using spur::test::test_options;
using spur::test::TestServer;

namespace {
using namespace std::chrono_literals;

const std::string get_request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

// "/" answers at once; "/hold" keeps its connection busy until the test opens `held`.
App caps_app(Gate& held) {
    App app;
    app.get("/", [](Request&, Response& res) { res.send("ok"); });
    app.get("/hold", [&held](Request&, Response& res) -> Task<> {
        co_await held.wait();
        res.send("held");
    });
    return app;
}

bool served(RawConnection& c) {
    if (!c.try_send(get_request)) return false;
    auto r = c.read_response();
    return r && r->result_int() == 200;
}

}  // namespace

TEST_CASE("past max_connections_per_ip a client's new connection is closed - other clients are served", "[server][caps][concurrency]") {
    Gate held;
    App app = caps_app(held);
    auto options = test_options();
    options.max_connections_per_ip = 2;
    TestServer srv(app, options);

    auto a = std::make_unique<RawConnection>(srv.port());
    RawConnection b(srv.port());
    REQUIRE(served(*a));
    REQUIRE(served(b));
    RawConnection c(srv.port(), 2000ms);
    CHECK(c.wait_closed());  // closed without a byte of answer
    CHECK(srv.server().stats().refused_connections == 1);

    RawConnection other(srv.port(), 5000ms, "127.0.0.2");
    CHECK(served(other));

    // A closed connection frees its place.
    a.reset();
    CHECK(eventually([&] {
        RawConnection again(srv.port(), 2000ms);
        return served(again);
    }));
    CHECK(served(b));  // the survivors were never disturbed
}

TEST_CASE("trusted proxies are exempt from the per-client cap", "[server][caps][proxy][concurrency]") {
    Gate held;
    App app = caps_app(held);
    auto options = test_options();
    options.max_connections_per_ip = 1;
    options.trusted_proxies = {"127.0.0.1"};
    TestServer srv(app, options);
    RawConnection a(srv.port()), b(srv.port()), c(srv.port());
    CHECK(served(a));
    CHECK(served(b));
    CHECK(served(c));
    CHECK(srv.server().stats().refused_connections == 0);
    // Another client is still capped.
    RawConnection d(srv.port(), 5000ms, "127.0.0.2");
    REQUIRE(served(d));
    RawConnection e(srv.port(), 2000ms, "127.0.0.2");
    CHECK(e.wait_closed());
}

TEST_CASE("at max_connections an idle keep-alive connection is shed to admit a new one", "[server][caps][concurrency]") {
    Gate held;
    App app = caps_app(held);
    auto options = test_options();
    options.max_connections = 2;
    TestServer srv(app, options);

    RawConnection a(srv.port(), 2000ms);
    RawConnection b(srv.port(), 2000ms, "127.0.0.2");
    REQUIRE(served(a));
    REQUIRE(served(b));
    // The client has its answer a moment before the server's side has finished with the
    // request and gone back to waiting (idle); until then neither counts as idle and a new
    // connection is refused. So knock until one is admitted, counting the knocks.
    std::unique_ptr<RawConnection> c;
    int knocks = 0;
    CHECK(eventually([&] {
        ++knocks;
        c = std::make_unique<RawConnection>(srv.port(), 5000ms, "127.0.0.3");
        return served(*c);
    }));
    CHECK(srv.server().stats().shed_connections == 1);
    CHECK(srv.server().stats().refused_connections == static_cast<std::uint64_t>(knocks - 1));
    // Exactly one of the two idle ones was closed; the other still answers.
    const bool a_alive = served(a);
    const bool b_alive = served(b);
    CHECK(a_alive != b_alive);
    CHECK(eventually([&] { return srv.server().stats().open_connections == 2; }));
}

TEST_CASE("at max_connections with every connection busy the new one is refused and the busy ones finish", "[server][caps][concurrency]") {
    Gate held;
    App app = caps_app(held);
    auto options = test_options();
    options.max_connections = 2;
    TestServer srv(app, options);

    RawConnection a(srv.port()), b(srv.port(), 5000ms, "127.0.0.2");
    a.send("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    b.send("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(held.wait_arrived(2));

    RawConnection c(srv.port(), 2000ms, "127.0.0.3");
    CHECK(c.wait_closed());
    CHECK(srv.server().stats().refused_connections == 1);
    CHECK(srv.server().stats().shed_connections == 0);

    held.open();
    auto ra = a.read_response();
    auto rb = b.read_response();
    REQUIRE(ra);
    REQUIRE(rb);
    CHECK(ra->body() == "held");
    CHECK(rb->body() == "held");
}
