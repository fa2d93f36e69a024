// Who the client is behind a reverse proxy: X-Forwarded-For, Forwarded (RFC 7239) and
// X-Forwarded-Proto, believed only from the peers in ServerOptions::trusted_proxies. Every
// request here goes over a real loopback socket, so the peer is 127.0.0.1.
#include <spur/app.hpp>
#include <spur/middleware/access_log.hpp>
#include <spur/middleware/rate_limit.hpp>

#include "support/test_server.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <vector>

using namespace spur;
using spur::test::round_trip;
using spur::test::test_options;
using spur::test::TestServer;

namespace {
App echo_app() {
    App app;
    app.get("/who", [](Request& req, Response& res) {
        res.send(std::string(req.ip()) + " " + std::string(req.protocol()) + (req.secure() ? " secure" : ""));
    });
    return app;
}

ServerOptions trusting(std::vector<std::string> proxies) {
    auto o = test_options();
    o.trusted_proxies = std::move(proxies);
    return o;
}

std::string who(unsigned short port, std::string_view headers) {
    auto r = round_trip(port, "GET /who HTTP/1.1\r\nHost: x\r\n" + std::string(headers) + "Connection: close\r\n\r\n");
    REQUIRE(r);
    REQUIRE(r->result_int() == 200);
    return r->body();
}
}  // namespace

TEST_CASE("forwarding headers from a peer that is not trusted are ignored", "[server][proxy]") {
    App app = echo_app();
    SECTION("no trusted proxies (the default)") {
        TestServer srv(app);
        CHECK(who(srv.port(), "X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\n") == "127.0.0.1 http");
        CHECK(who(srv.port(), "Forwarded: for=203.0.113.9;proto=https\r\n") == "127.0.0.1 http");
        CHECK(who(srv.port(), "") == "127.0.0.1 http");
    }
    SECTION("a trusted list that does not hold the peer") {
        TestServer srv(app, trusting({"10.0.0.0/8", "2001:db8::/32"}));
        CHECK(who(srv.port(), "X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\n") == "127.0.0.1 http");
    }
}

TEST_CASE("behind a trusted proxy the client is the right-most untrusted X-Forwarded-For hop", "[server][proxy]") {
    App app = echo_app();
    TestServer srv(app, trusting({"127.0.0.1", "10.0.0.0/8"}));
    // The client wrote "6.6.6.6" itself; the proxy appended the address it really saw.
    CHECK(who(srv.port(), "X-Forwarded-For: 6.6.6.6, 203.0.113.7\r\n") == "203.0.113.7 http");
    // An inner proxy (10.x, trusted) sits between the client and the one we talk to.
    CHECK(who(srv.port(), "X-Forwarded-For: 6.6.6.6, 203.0.113.7, 10.1.2.3\r\n") == "203.0.113.7 http");
    // Several header lines are one list, in order.
    CHECK(who(srv.port(), "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: 203.0.113.8, 10.0.0.1\r\n") == "203.0.113.8 http");
    // Every hop trusted: the left-most is as far as anyone can see.
    CHECK(who(srv.port(), "X-Forwarded-For: 10.0.0.5, 10.0.0.6\r\n") == "10.0.0.5 http");
    // Garbage where an address belongs stops the walk at the trusted hop after it.
    CHECK(who(srv.port(), "X-Forwarded-For: 203.0.113.7, nonsense, 10.9.9.9\r\n") == "10.9.9.9 http");
    // No header at all: the proxy itself is the client.
    CHECK(who(srv.port(), "") == "127.0.0.1 http");
    // IPv6 hops, with the IPv4-mapped form read as IPv4.
    CHECK(who(srv.port(), "X-Forwarded-For: 2001:db8::7\r\n") == "2001:db8::7 http");
    CHECK(who(srv.port(), "X-Forwarded-For: ::ffff:198.51.100.4\r\n") == "198.51.100.4 http");
}

TEST_CASE("X-Forwarded-Proto from a trusted proxy sets protocol() and secure()", "[server][proxy]") {
    App app = echo_app();
    TestServer srv(app, trusting({"127.0.0.0/8"}));
    CHECK(who(srv.port(), "X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: https\r\n") == "203.0.113.7 https secure");
    CHECK(who(srv.port(), "X-Forwarded-Proto: HTTPS, http\r\n") == "127.0.0.1 https secure");
    CHECK(who(srv.port(), "X-Forwarded-Proto: gopher\r\n") == "127.0.0.1 http");
}

TEST_CASE("Forwarded (RFC 7239) from a trusted proxy configured to set it, with X-Forwarded-For ignored", "[server][proxy]") {
    App app = echo_app();
    auto options = trusting({"127.0.0.1"});
    options.forwarded_header = ForwardedHeader::forwarded;
    TestServer srv(app, options);
    CHECK(who(srv.port(), "Forwarded: for=6.6.6.6, for=\"[2001:db8:cafe::17]:4711\";proto=https\r\n") ==
          "2001:db8:cafe::17 https secure");
    CHECK(who(srv.port(), "Forwarded: for=\"198.51.100.17:8080\";proto=http;by=203.0.113.43\r\n") == "198.51.100.17 http");
    CHECK(who(srv.port(), "Forwarded: for=198.51.100.17\r\nX-Forwarded-For: 203.0.113.99\r\n") == "198.51.100.17 http");
    CHECK(who(srv.port(), "X-Forwarded-For: 203.0.113.99\r\nX-Forwarded-Proto: https\r\n") == "127.0.0.1 http");
    // An obfuscated or unknown node is no address: the proxy is the best we know.
    CHECK(who(srv.port(), "Forwarded: for=unknown\r\n") == "127.0.0.1 http");
}

// Finding 2 of issue #31: nginx and HAProxy append to X-Forwarded-For and pass a client's own
// Forwarded header through untouched; reading Forwarded first let every request choose its
// address (fresh login-throttle buckets, a forged access log).
TEST_CASE("behind an X-Forwarded-For proxy a client-sent Forwarded header changes nothing", "[server][proxy]") {
    App app = echo_app();
    TestServer srv(app, trusting({"127.0.0.1"}));
    CHECK(who(srv.port(), "Forwarded: for=6.6.6.6;proto=https\r\nX-Forwarded-For: 203.0.113.7\r\n") == "203.0.113.7 http");
    CHECK(who(srv.port(), "Forwarded: for=6.6.6.6\r\n") == "127.0.0.1 http");
}

TEST_CASE("a malformed trusted_proxies entry is refused when the server is built", "[server][proxy]") {
    App app = echo_app();
    for (const char* bad : {"10.0.0.0/33", "not-an-ip", "10.0.0.0/", "2001:db8::/129", "10.0.0.0/8x"}) {
        INFO(bad);
        CHECK_THROWS_AS(Server(app, trusting({bad})), std::invalid_argument);
    }
}

TEST_CASE("rate_limit and the access log see the forwarded client, IPv6 clients by their /64", "[server][proxy][rate_limit]") {
    App app;
    std::mutex mutex;
    std::vector<std::string> lines;
    middleware::AccessLogOptions log;
    log.format = middleware::AccessLogFormat::combined;
    log.sink = [&](std::string_view line) {
        std::lock_guard lock(mutex);
        lines.emplace_back(line);
    };
    app.use(middleware::access_log(log));
    middleware::RateLimitOptions limit;
    limit.burst = 1;
    limit.per_second = 0.001;
    app.use(middleware::rate_limit(limit));
    app.get("/", [](Request&, Response& res) { res.send("ok"); });
    TestServer srv(app, trusting({"127.0.0.1"}));

    auto status = [&](std::string_view client) {
        auto r = round_trip(srv.port(), "GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: " + std::string(client) +
                                            "\r\nConnection: close\r\n\r\n");
        REQUIRE(r);
        return r->result_int();
    };
    CHECK(status("203.0.113.1") == 200);
    CHECK(status("203.0.113.1") == 429);
    CHECK(status("203.0.113.2") == 200);  // another client behind the same proxy has its own bucket
    CHECK(status("2001:db8:1:2::a") == 200);
    CHECK(status("2001:db8:1:2:ffff::b") == 429);  // same /64
    CHECK(status("2001:db8:1:3::a") == 200);       // next /64

    srv.stop();  // the access log writes after each response; stopping drains them
    std::lock_guard lock(mutex);
    // Each line is written after its response, on whichever I/O thread served it: the order
    // of lines need not be the order of requests.
    REQUIRE(lines.size() == 6);
    auto logged = [&](std::string_view prefix, std::string_view status) {
        return std::count_if(lines.begin(), lines.end(), [&](const std::string& l) {
            return l.rfind(prefix, 0) == 0 && l.find(status) != std::string::npos;
        });
    };
    CHECK(logged("203.0.113.1 ", "\" 200 ") == 1);
    CHECK(logged("203.0.113.1 ", "\" 429 ") == 1);
    CHECK(logged("2001:db8:1:2::a ", "\" 200 ") == 1);
    CHECK(logged("127.0.0.1 ", "") == 0);
}

TEST_CASE("client_key: IPv4 as is, IPv6 by its /64, IPv4-mapped as IPv4", "[server][proxy][rate_limit]") {
    CHECK(middleware::client_key("192.0.2.1") == "192.0.2.1");
    CHECK(middleware::client_key("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64");
    CHECK(middleware::client_key("::ffff:192.0.2.1") == "192.0.2.1");
    CHECK(middleware::client_key("not an address") == "not an address");
}
