// spur::HttpClient against spur servers on real loopback sockets: plain and TLS (a private test
// CA, made by the tls_cert fixture), a server that stalls, redirects, limits, cancellation.
#include <spur/http_client.hpp>

#include <spur/app.hpp>
#include <spur/tls.hpp>

#include "client/harness.hpp"
#include "support/eventually_async.hpp"
#include "support/test_server.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <thread>

#include <sys/socket.h>

using namespace spur;
using Kind = HttpClientError::Kind;
namespace net = boost::asio;
using test::Io;
using test::free_port;
using test::run;

namespace {

std::string ca_dir() {
    const char* d = std::getenv("SPUR_TEST_TLS_DIR");
    REQUIRE(d);
    return std::string(d) + "/ca";
}

Kind failure_kind(HttpClient& client, std::string url) {
    try {
        run(client.get(std::move(url)));
    } catch (const HttpClientError& e) {
        return e.kind();
    }
    FAIL("the request did not fail");
    return Kind::protocol;
}

App service() {
    App app(AppOptions{.log = [](LogLevel, std::string_view) {}});
    app.get("/hello", [](Request& req, Response& res) {
        res.set("X-Seen-Host", req.header("Host")).json({{"hello", "world"}, {"ua", req.header("User-Agent")}});
    });
    app.post("/echo", [](Request& req, Response& res) {
        res.status(201).json({{"type", req.header("Content-Type")}, {"got", req.json()}});
    });
    app.get("/big", [](Request&, Response& res) { res.send(std::string(2 * 1024 * 1024, 'x')); });
    app.get("/missing", [](Request&, Response&) { throw HttpError(404, "not_found", "Nothing here"); });
    app.get("/hop/:n", [](Request& req, Response& res) {
        const int n = std::stoi(std::string(req.param("n")));
        if (n == 0) return void(res.json({{"arrived", true}, {"auth", req.header("Authorization")}}));
        res.redirect("/hop/" + std::to_string(n - 1), 302);
    });
    app.get("/loop", [](Request&, Response& res) { res.redirect("/loop", 307); });
    app.get("/to", [](Request& req, Response& res) { res.redirect(std::string(req.query("url").value_or("/")), 302); });
    app.post("/form", [](Request&, Response& res) { res.redirect("/landing", 303); });
    app.get("/landing", [](Request& req, Response& res) { res.json({{"method", req.method()}, {"body", req.body()}}); });
    return app;
}

// Accepts connections and never answers.
struct StallingServer {
    net::io_context io;
    net::ip::tcp::acceptor acceptor{io, {net::ip::make_address("127.0.0.1"), 0}};
    std::vector<net::ip::tcp::socket> held;
    std::atomic<int> accepted{0};
    std::thread thread;
    StallingServer() {
        thread = std::thread([this] {
            for (;;) {
                boost::system::error_code ec;
                auto s = acceptor.accept(ec);
                if (ec) return;
                held.push_back(std::move(s));
                ++accepted;
            }
        });
    }
    ~StallingServer() {
        ::shutdown(acceptor.native_handle(), SHUT_RDWR);  // wakes the blocking accept
        acceptor.close();
        thread.join();
    }
    unsigned short port() const { return acceptor.local_endpoint().port(); }
};

}  // namespace

TEST_CASE("GET and POST JSON over a pooled keep-alive connection", "[client][http_client]") {
    App app = service();
    test::TestServer srv(app);
    Io io;
    HttpClient client;
    const auto base = "http://127.0.0.1:" + std::to_string(srv.port());
    auto r = run(client.get(base + "/hello"));
    CHECK(r.status == 200);
    CHECK(r.header("content-type") == "application/json");
    CHECK(r.header("X-Seen-Host") == "127.0.0.1:" + std::to_string(srv.port()));
    CHECK(r.json().at("ua") == "spur");
    auto p = run(client.post_json(base + "/echo", {{"n", 1}}));
    CHECK(p.status == 201);
    CHECK(p.json().at("type") == "application/json");
    CHECK(p.json().at("got").at("n") == 1);
    // A 4xx is an answer, not an exception.
    auto m = run(client.get(base + "/missing"));
    CHECK(m.status == 404);
    CHECK(m.json().at("error").at("code") == "not_found");
    // Three requests, one connection: it went back to the pool after each.
    CHECK(client.idle_connections(io.io) == 1);
    CHECK(srv.server().stats().open_connections == 1);
    // Another io_context has its own pool: nothing to reuse there.
    net::io_context other;
    CHECK(client.idle_connections(other) == 0);
}

TEST_CASE("concurrent requests open their own connections and the pool keeps at most max_idle_per_host", "[client][http_client]") {
    App app = service();
    test::TestServer srv(app);
    HttpClient client(HttpClientOptions{.max_idle_per_host = 3});
    const auto url = "http://127.0.0.1:" + std::to_string(srv.port()) + "/hello";
    net::io_context io;
    std::atomic<int> ok{0};
    for (int i = 0; i < 8; ++i)
        net::co_spawn(io, [&]() -> Task<> {
            auto r = co_await client.get(url);
            if (r.status == 200) ++ok;
        }, net::detached);
    io.run();
    CHECK(ok == 8);
    CHECK(client.idle_connections(io) == 3);
}

TEST_CASE("a pooled connection the server closed is replaced for an idempotent request", "[client][http_client]") {
    App app = service();
    auto options = test::test_options();
    Io io;
    options.idle_timeout = std::chrono::milliseconds(200);
    test::TestServer srv(app, options);
    HttpClient client;
    const auto url = "http://127.0.0.1:" + std::to_string(srv.port()) + "/hello";
    CHECK(run(client.get(url)).status == 200);
    REQUIRE(test::eventually([&] { return srv.server().stats().open_connections == 0; }));
    CHECK(run(client.get(url)).status == 200);
}

TEST_CASE("a server that never answers fails with a timeout, and cancellation ends the wait at once", "[client][http_client]") {
    Io loop;
    StallingServer stall;
    const auto url = "http://127.0.0.1:" + std::to_string(stall.port()) + "/";
    HttpClient quick(HttpClientOptions{.timeout = std::chrono::milliseconds(300)});
    const auto start = std::chrono::steady_clock::now();
    CHECK(failure_kind(quick, url) == Kind::timeout);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));

    HttpClient patient;  // 30 s timeout: only the cancellation can end this one soon
    net::io_context io;
    net::cancellation_signal cancel;
    std::optional<Kind> kind;
    net::co_spawn(io, [&]() -> Task<> {
        try {
            co_await patient.get(url);
        } catch (const HttpClientError& e) {
            kind = e.kind();
        }
    }, net::bind_cancellation_slot(cancel.slot(), net::detached));
    // Cancelled once the stalling server holds its connection: the request is then in flight.
    const int before = stall.accepted;
    bool in_flight = false;
    auto cancel_once_connected = [&]() -> Task<> {
        auto connected = [&] { return stall.accepted > before; };
        in_flight = co_await spur::test::eventually_async(connected);
        cancel.emit(net::cancellation_type::terminal);
    };
    net::co_spawn(io, cancel_once_connected(), net::detached);
    const auto cancelled_at = std::chrono::steady_clock::now();
    io.run();
    CHECK(in_flight);
    CHECK(kind == Kind::cancelled);
    CHECK(std::chrono::steady_clock::now() - cancelled_at < std::chrono::seconds(5));
}

TEST_CASE("responses over max_response_bytes fail, bad URLs and refused connections are clear errors", "[client][http_client]") {
    Io io;
    App app = service();
    test::TestServer srv(app);
    const auto base = "http://127.0.0.1:" + std::to_string(srv.port());
    HttpClient small(HttpClientOptions{.max_response_bytes = 1024 * 1024});
    CHECK(failure_kind(small, base + "/big") == Kind::too_large);
    HttpClient client;
    CHECK(run(client.get(base + "/big")).body.size() == 2 * 1024 * 1024);
    CHECK(failure_kind(client, "not a url") == Kind::invalid_url);
    CHECK(failure_kind(client, "ftp://127.0.0.1/x") == Kind::invalid_url);
    CHECK(failure_kind(client, "http://127.0.0.1:" + std::to_string(free_port()) + "/") == Kind::connect);
}

TEST_CASE("redirects are returned unless asked for, then followed within max_redirects", "[client][http_client]") {
    Io io;
    App app = service();
    test::TestServer srv(app);
    const auto base = "http://127.0.0.1:" + std::to_string(srv.port());
    HttpClient plain;
    auto r = run(plain.get(base + "/hop/2"));
    CHECK(r.status == 302);
    CHECK(r.header("Location") == "/hop/1");

    // The test server is on loopback, where redirects are refused unless allowed.
    HttpClient following(HttpClientOptions{.max_redirects = 3, .block_private_redirects = false});
    r = run(following.request("GET", base + "/hop/3", {}, {{"Authorization", "Bearer t"}}));
    CHECK(r.status == 200);
    CHECK(r.json().at("arrived") == true);
    CHECK(r.json().at("auth") == "Bearer t");  // the same host keeps it
    CHECK(failure_kind(following, base + "/hop/4") == Kind::redirects);
    CHECK(failure_kind(following, base + "/loop") == Kind::redirects);
    // 303 after a POST: the next request is a GET without the body.
    r = run(following.request("POST", base + "/form", "a=1", {{"Content-Type", "application/x-www-form-urlencoded"}}));
    CHECK(r.json().at("method") == "GET");
    CHECK(r.json().at("body") == "");
}

TEST_CASE("TLS is verified: a private CA's certificate is trusted only when its CA is given", "[client][http_client][tls]") {
    App app = service();
    auto options = test::test_options();
    TlsOptions tls;
    tls.port = 0;
    tls.certificate.cert_chain_file = ca_dir() + "/leaf.pem";
    tls.certificate.private_key_file = ca_dir() + "/leaf-key.pem";
    options.tls = tls;
    Io io;
    test::TestServer srv(app, options);
    const auto port = std::to_string(srv.server().tls_port());

    HttpClient trusting(HttpClientOptions{.ca_file = ca_dir() + "/ca.pem"});
    auto r = run(trusting.get("https://localhost:" + port + "/hello"));
    CHECK(r.status == 200);
    CHECK(r.json().at("hello") == "world");
    CHECK(run(trusting.get("https://127.0.0.1:" + port + "/hello")).status == 200);  // the IP is in the certificate too

    HttpClient system_store;  // the system's CAs never signed this certificate
    CHECK(failure_kind(system_store, "https://localhost:" + port + "/hello") == Kind::tls);
    HttpClient unverified(HttpClientOptions{.verify_tls = false});
    CHECK(run(unverified.get("https://localhost:" + port + "/hello")).status == 200);
    CHECK_THROWS_AS(HttpClient(HttpClientOptions{.ca_file = "/nonexistent/ca.pem"}), std::invalid_argument);
}

TEST_CASE("TLS refuses a trusted certificate for another name", "[client][http_client][tls]") {
    App app = service();
    auto options = test::test_options();
    TlsOptions tls;
    tls.port = 0;
    tls.certificate.cert_chain_file = ca_dir() + "/other.pem";  // the CA's, for api.other.test only
    tls.certificate.private_key_file = ca_dir() + "/other-key.pem";
    options.tls = tls;
    Io io;
    test::TestServer srv(app, options);
    HttpClient client(HttpClientOptions{.ca_file = ca_dir() + "/ca.pem"});
    CHECK(failure_kind(client, "https://127.0.0.1:" + std::to_string(srv.server().tls_port()) + "/hello") == Kind::tls);
    CHECK(failure_kind(client, "https://localhost:" + std::to_string(srv.server().tls_port()) + "/hello") == Kind::tls);
}

namespace {

// A server that counts the requests reaching it and reports the headers it got.
struct Counted {
    std::atomic<int> hits{0};
    App app{AppOptions{.log = [](LogLevel, std::string_view) {}}};
    Counted() {
        app.get("/count", [this](Request& req, Response& res) {
            ++hits;
            res.json({{"injected", !req.header("X-Injected").empty()}});
        });
        app.get("/to", [](Request& req, Response& res) { res.redirect(std::string(req.query("url").value_or("/")), 302); });
    }
};

// A URL as a query value.
std::string encoded(std::string_view url) {
    std::string out;
    for (char c : url) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
        if (plain) {
            out.push_back(c);
        } else {
            const char* hex = "0123456789ABCDEF";
            out += {'%', hex[static_cast<unsigned char>(c) >> 4], hex[c & 0xF]};
        }
    }
    return out;
}

}  // namespace

TEST_CASE("header names and values with CR, LF or NUL are refused before anything is sent", "[client][http_client]") {
    Io io;
    Counted counted;
    test::TestServer srv(counted.app);
    const auto url = "http://127.0.0.1:" + std::to_string(srv.port()) + "/count";
    HttpClient client;
    auto refused = [&](std::string method, HttpClient::Headers headers) -> std::optional<std::string> {
        try {
            run(client.request(std::move(method), url, {}, std::move(headers)));
        } catch (const HttpClientError& e) {
            if (e.kind() == Kind::invalid_request) return std::string(e.what());
        }
        return std::nullopt;
    };
    auto message = refused("GET", {{"X-A", "v\r\nX-Injected: 1"}});
    REQUIRE(message);
    CHECK(message->find("X-A") != std::string::npos);           // says which header
    CHECK(message->find("X-Injected") == std::string::npos);    // but not the value, which may be a secret
    CHECK(refused("GET", {{"X-A", "v\nX-Injected: 1"}}));
    CHECK(refused("GET", {{"X-A", "v\rX-Injected: 1"}}));
    CHECK(refused("GET", {{"X-A", std::string("v\0w", 3)}}));
    CHECK(refused("GET", {{"X-Injected: 1\r\nX-A", "v"}}));
    CHECK(refused("GET", {{"", "v"}}));
    CHECK(refused("GET /count HTTP/1.1\r\nX-Injected: 1\r\n\r\nGET", {}));
    HttpClient agent(HttpClientOptions{.user_agent = "spur\r\nX-Injected: 1"});
    CHECK(failure_kind(agent, url) == Kind::invalid_request);
    CHECK(counted.hits == 0);
    // Tabs and non-ASCII bytes are field content, not control characters.
    auto r = run(client.request("GET", url, {}, {{"X-A", "a\tb \xC3\xA9"}}));
    CHECK(r.status == 200);
    CHECK(r.json().at("injected") == false);
    CHECK(counted.hits == 1);
}

TEST_CASE("redirects to loopback, private and link-local addresses are refused by default, a first request may go there",
          "[client][http_client]") {
    Io io;
    Counted counted;
    test::TestServer srv(counted.app);
    const auto port = std::to_string(srv.port());
    const auto base = "http://127.0.0.1:" + port;
    HttpClient client(HttpClientOptions{.connect_timeout = std::chrono::milliseconds(500), .max_redirects = 2});
    // The caller's own URL is trusted: an internal service is reachable.
    CHECK(run(client.get(base + "/count")).status == 200);
    CHECK(counted.hits == 1);
    // The connection to 127.0.0.1 is now pooled: the redirect must not reuse it either.
    CHECK(client.idle_connections(io.io) == 1);
    for (std::string target : {base + "/count", "http://localhost:" + port + "/count", "http://[::ffff:127.0.0.1]:" + port + "/count",
                               std::string("http://10.0.0.1/"), std::string("http://172.16.0.1/"), std::string("http://192.168.1.1/"),
                               std::string("http://169.254.169.254/latest/meta-data/"), std::string("http://100.64.0.1/"),
                               std::string("http://0.0.0.0:") + port + "/count", std::string("http://[::]:") + port + "/count",
                               std::string("http://[::1]:") + port + "/count", std::string("http://[fe80::1]/"),
                               std::string("http://[fd00::1]/"), std::string("http://[::ffff:10.0.0.1]/"),
                               std::string("http://[::ffff:169.254.169.254]/"), std::string("http://[64:ff9b::a00:1]/")}) {
        INFO(target);
        CHECK(failure_kind(client, base + "/to?url=" + encoded(target)) == Kind::blocked);
    }
    CHECK(counted.hits == 1);  // no redirect reached the server
    // A public address passes the check (and then fails to connect: there is no network here).
    const auto kind = failure_kind(client, base + "/to?url=" + encoded("http://192.0.2.1:9/"));
    CHECK(kind != Kind::blocked);
    // Allowed explicitly, the same redirect is followed.
    HttpClient internal(HttpClientOptions{.max_redirects = 2, .block_private_redirects = false});
    CHECK(run(internal.get(base + "/to?url=" + encoded(base + "/count"))).status == 200);
    CHECK(counted.hits == 2);
}

TEST_CASE("block_private_targets refuses the caller's own URL too, before connecting", "[client][http_client]") {
    Io io;
    Counted counted;
    test::TestServer srv(counted.app);
    HttpClient client(HttpClientOptions{.block_private_targets = true});
    CHECK(failure_kind(client, "http://127.0.0.1:" + std::to_string(srv.port()) + "/count") == Kind::blocked);
    CHECK(failure_kind(client, "http://localhost:" + std::to_string(srv.port()) + "/count") == Kind::blocked);
    CHECK(counted.hits == 0);
    CHECK(srv.server().stats().open_connections == 0);
}

TEST_CASE("a redirect from https to http is refused", "[client][http_client][tls]") {
    Counted counted;
    auto options = test::test_options();
    TlsOptions tls;
    tls.port = 0;
    tls.certificate.cert_chain_file = ca_dir() + "/leaf.pem";
    tls.certificate.private_key_file = ca_dir() + "/leaf-key.pem";
    options.tls = tls;
    Io io;
    test::TestServer srv(counted.app, options);
    const auto https = "https://localhost:" + std::to_string(srv.server().tls_port());
    const auto http = "http://localhost:" + std::to_string(srv.port());
    // Loopback redirects allowed, so only the downgrade rule can refuse.
    HttpClient client(HttpClientOptions{.max_redirects = 2, .block_private_redirects = false, .ca_file = ca_dir() + "/ca.pem"});
    CHECK(run(client.get(https + "/to?url=" + encoded(https + "/count"))).status == 200);  // https to https
    CHECK(run(client.get(http + "/to?url=" + encoded(https + "/count"))).status == 200);   // an upgrade
    CHECK(counted.hits == 2);
    CHECK(failure_kind(client, https + "/to?url=" + encoded(http + "/count")) == Kind::redirects);
    CHECK(counted.hits == 2);
}

namespace {
// Answers the first request with a chunked response whose first chunk line never ends.
struct EndlessChunkLine {
    net::io_context io;
    net::ip::tcp::acceptor acceptor{io, {net::ip::make_address("127.0.0.1"), 0}};
    std::thread thread;
    EndlessChunkLine() {
        thread = std::thread([this] {
            boost::system::error_code ec;
            auto s = acceptor.accept(ec);
            if (ec) return;
            char request[4096];
            s.read_some(net::buffer(request), ec);
            std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;";
            net::write(s, net::buffer(head), ec);
            const std::string ext(64 * 1024, 'x');  // chunk extension bytes, token characters
            for (int i = 0; i < 64 && !ec; ++i) net::write(s, net::buffer(ext), ec);
            while (!ec) s.read_some(net::buffer(request), ec);  // until the client hangs up
        });
    }
    ~EndlessChunkLine() { thread.join(); }
    unsigned short port() const { return acceptor.local_endpoint().port(); }
};
}  // namespace

TEST_CASE("a chunk line longer than the read buffer's bound fails as too large", "[client][http_client]") {
    Io io;
    EndlessChunkLine peer;
    HttpClient client(HttpClientOptions{.timeout = std::chrono::seconds(10)});
    CHECK(failure_kind(client, "http://127.0.0.1:" + std::to_string(peer.port()) + "/") == Kind::too_large);
}
