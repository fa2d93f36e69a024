#include <spur/middleware/security_headers.hpp>

#include <spur/app.hpp>
#include <spur/detail/response_access.hpp>
#include <spur/router.hpp>
#include <spur/testing/client.hpp>

#include "server/wire_routes.hpp"
#include "support/test_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <map>
#include <mutex>
#include <string>
#include <vector>

using namespace spur;

TEST_CASE("safe defaults are set on every response - errors included", "[middleware][security_headers]") {
    App app;
    app.use(middleware::security_headers());
    app.get("/", [](Request&, Response& res) { res.send("ok"); });
    testing::Client c(app);
    for (const auto& r : {c.get("/"), c.get("/missing")}) {
        CHECK(r.header("X-Content-Type-Options") == "nosniff");
        CHECK(r.header("X-Frame-Options") == "DENY");
        CHECK(r.header("Content-Security-Policy") == "frame-ancestors 'none'");
        CHECK(r.header("Referrer-Policy") == "no-referrer");
        CHECK(r.header("Cross-Origin-Opener-Policy") == "same-origin");
        CHECK(r.header("Strict-Transport-Security").empty());  // only when asked: HTTPS only
    }
}

TEST_CASE("HSTS is opt-in and headers can be dropped or overridden", "[middleware][security_headers]") {
    middleware::SecurityHeadersOptions o;
    o.hsts_max_age = std::chrono::hours(24 * 365);
    o.hsts_preload = true;
    o.frame_options = "";
    App app;
    app.use(middleware::security_headers(o));
    app.get("/embed", [](Request&, Response& res) {
        res.set("Content-Security-Policy", "frame-ancestors https://partner.example").send("ok");
    });
    testing::Client c(app);
    auto r = c.get("/embed");
    CHECK(r.header("Strict-Transport-Security") == "max-age=31536000; includeSubDomains; preload");
    CHECK(r.header("X-Frame-Options").empty());
    CHECK(r.header("Content-Security-Policy") == "frame-ancestors https://partner.example");
}

TEST_CASE("a header value that would split the response is refused at setup", "[middleware][security_headers]") {
    middleware::SecurityHeadersOptions o;
    o.referrer_policy = "no-referrer\r\nSet-Cookie: x=1";
    CHECK_THROWS_AS(middleware::security_headers(o), std::invalid_argument);
}

// The headers are preset on the response (detail::PresetFields): they go to the wire as one
// block and enter the header only when something asks for it. To the app they are fields
// like any other.
TEST_CASE("the headers are fields like any other to get, set, append, unset and header()",
          "[middleware][security_headers]") {
    App app;
    app.use(middleware::security_headers());
    std::string seen;
    app.get("/", [&](Request&, Response& res) {
        seen = std::string(res.get("x-frame-options"));
        res.unset("Referrer-Policy");
        res.append("Content-Security-Policy", "default-src 'self'");
        res.set("X-Request-Note", "kept");
        res.send("ok");
    });
    app.get("/walk", [](Request&, Response& res) {
        std::size_t frame_lines = 0;
        for (const auto& field : res.header())
            if (field.name_string() == "X-Frame-Options") ++frame_lines;
        res.send(std::to_string(frame_lines));
    });
    testing::Client c(app);
    auto r = c.get("/");
    CHECK(seen == "DENY");
    CHECK(r.header("Referrer-Policy").empty());
    CHECK(r.header("X-Request-Note") == "kept");
    std::vector<std::string> csp;
    for (const auto& field : r.headers)
        if (field.name_string() == "Content-Security-Policy") csp.emplace_back(field.value());
    CHECK(csp == std::vector<std::string>{"frame-ancestors 'none'", "default-src 'self'"});
    CHECK(c.get("/walk").body == "1");
}

TEST_CASE("a second security_headers() replaces the first's values, one line each", "[middleware][security_headers]") {
    middleware::SecurityHeadersOptions embed;
    embed.frame_options = "SAMEORIGIN";
    embed.referrer_policy = "";
    App app;
    app.use(middleware::security_headers());
    Router inner;
    inner.use(middleware::security_headers(embed));
    inner.get("/page", [](Request&, Response& res) { res.send("ok"); });
    app.mount("/embed", inner);
    testing::Client c(app);
    auto r = c.get("/embed/page");
    std::map<std::string, int> count;
    for (const auto& field : r.headers) ++count[std::string(field.name_string())];
    CHECK(r.header("X-Frame-Options") == "SAMEORIGIN");
    CHECK(count["X-Frame-Options"] == 1);
    CHECK(count["X-Content-Type-Options"] == 1);
    // The second set has no Referrer-Policy: the first's stays, as a set() would have left it.
    CHECK(r.header("Referrer-Policy") == "no-referrer");
}

TEST_CASE("over the wire each header goes out once, overridden, removed or not, on every kind of answer",
          "[middleware][security_headers][server]") {
    App app = test::quiet_app();
    app.use(middleware::security_headers());
    std::mutex mutex;
    std::string hooked;
    app.get("/plain", [&](Request&, Response& res) {
        res.on_finish([&](Response& r) {
            std::lock_guard lock(mutex);
            hooked = std::string(r.get("X-Frame-Options")) + "|" + std::string(r.get("Content-Security-Policy"));
        });
        res.send("hello");
    });
    app.get("/override", [](Request&, Response& res) {
        res.set("X-Frame-Options", "SAMEORIGIN").unset("Referrer-Policy").send("hello");
    });
    app.get("/walked", [](Request&, Response& res) {
        res.header().set("X-Walked", "yes");
        res.send("hello");
    });
    app.get("/stream", [](Request&, Response& res) {
        res.stream([](BodyWriter& w) -> Task<> { co_await w.write("hello"); });
    });
    app.get("/fail", [](Request&, Response&) { throw HttpError(503, "busy"); });
    test::TestServer srv(app);
    const auto count = [](const test::RawResponse& r) {
        std::map<std::string, int> n;
        for (const auto& field : r) ++n[std::string(field.name_string())];
        return n;
    };
    test::RawConnection c(srv.port());
    c.send(test::get("/plain") + test::get("/override") + test::get("/walked") + test::get("/stream") +
           test::get("/fail") + test::get("/missing"));  // pipelined: one batch
    for (std::string_view path : {"/plain", "/override", "/walked", "/stream", "/fail", "/missing"}) {
        INFO(path);
        auto r = c.read_response();
        REQUIRE(r);
        auto n = count(*r);
        CHECK(n["X-Content-Type-Options"] == 1);
        CHECK(n["Content-Security-Policy"] == 1);
        CHECK(n["Cross-Origin-Opener-Policy"] == 1);
        CHECK(n["X-Frame-Options"] == 1);
        CHECK((*r)["X-Frame-Options"] == (path == "/override" ? "SAMEORIGIN" : "DENY"));
        CHECK(n["Referrer-Policy"] == (path == "/override" ? 0 : 1));
        CHECK(n["Date"] == 1);
        if (path == "/walked") CHECK((*r)["X-Walked"] == "yes");
        if (path == "/plain" || path == "/override") CHECK(r->body() == "hello");
    }
    c.send("HEAD /plain HTTP/1.1\r\nHost: t\r\n\r\n");
    auto head = c.read_response(true);
    REQUIRE(head);
    CHECK(count(*head)["X-Frame-Options"] == 1);
    CHECK((*head)["Content-Length"] == "5");
    CHECK(test::eventually([&] {
        std::lock_guard lock(mutex);
        return hooked == "DENY|frame-ancestors 'none'";
    }));
}

TEST_CASE("a preset refuses fields the server or Response write themselves, and a name twice",
          "[middleware][security_headers]") {
    using Fields = std::vector<std::pair<std::string, std::string>>;
    for (const char* name : {"Content-Length", "transfer-encoding", "Connection", "Date", "Server", "Content-Type", "Vary",
                             "Set-Cookie", "Location", "Upgrade"}) {
        INFO(name);
        CHECK_THROWS_AS(detail::PresetFields(Fields{{name, "x"}}), std::invalid_argument);
    }
    CHECK_THROWS_AS(detail::PresetFields(Fields{{"X-A", "1"}, {"x-a", "2"}}), std::invalid_argument);
    CHECK_THROWS_AS(detail::PresetFields(Fields{{"X A", "1"}}), std::invalid_argument);
    CHECK_THROWS_AS(detail::PresetFields(Fields{{"X-A", "1\r\nX-B: 2"}}), std::invalid_argument);
    detail::PresetFields ok(Fields{{"X-A", "1"}, {"Permissions-Policy", "camera=()"}});
    CHECK(ok.wire() == "X-A: 1\r\nPermissions-Policy: camera=()\r\n");
}

TEST_CASE("a security_headers() made per request (a nonce in its CSP) is kept alive by the responses it set",
          "[middleware][security_headers][server]") {
    // The middleware, and its preset, are gone before the response is written: the response
    // holds the fields itself (ASan catches a response that only pointed at them).
    App app = test::quiet_app();
    int made = 0;
    app.use([&made](Request& req, Response& res, Next next) -> Task<> {
        middleware::SecurityHeadersOptions o;
        o.content_security_policy = "script-src 'nonce-n" + std::to_string(++made) + "'";
        auto step = middleware::security_headers(o);
        co_await step(req, res, std::move(next));
    });
    app.get("/", [](Request&, Response& res) { res.send("ok"); });
    testing::Client c(app);
    CHECK(c.get("/").header("Content-Security-Policy") == "script-src 'nonce-n1'");
    test::TestServer srv(app);
    test::RawConnection wire(srv.port());
    wire.send(test::get("/") + test::get("/"));
    for (const char* nonce : {"script-src 'nonce-n2'", "script-src 'nonce-n3'"}) {
        auto r = wire.read_response();
        REQUIRE(r);
        CHECK((*r)["Content-Security-Policy"] == nonce);
        CHECK((*r)["X-Content-Type-Options"] == "nosniff");
        CHECK(r->body() == "ok");
    }
}

TEST_CASE("a header reference taken before security_headers() ran sees its fields and overrides them",
          "[middleware][security_headers][server]") {
    App app = test::quiet_app();
    std::string walked;
    app.use([&walked](Request&, Response& res, Next next) -> Task<> {
        auto& h = res.header();  // kept across next(), as an outer middleware may
        co_await next();
        for (const auto& field : h)
            if (field.name_string() == "Referrer-Policy") walked += std::string(field.value()) + ";";
        h.set(boost::beast::http::field::x_frame_options, "SAMEORIGIN");
    });
    app.use(middleware::security_headers());
    app.get("/", [](Request&, Response& res) { res.send("ok"); });
    test::TestServer srv(app);
    test::RawConnection wire(srv.port());
    wire.send(test::get("/"));
    auto r = wire.read_response();
    REQUIRE(r);
    std::vector<std::string> frame;
    for (const auto& field : *r)
        if (field.name_string() == "X-Frame-Options") frame.emplace_back(field.value());
    CHECK(frame == std::vector<std::string>{"SAMEORIGIN"});
    CHECK(walked == "no-referrer;");
}

TEST_CASE("a response outlives the app that answered it with its security headers intact",
          "[middleware][security_headers]") {
    // App::handle without sockets, from a function whose app is gone when it returns.
    const auto answer = [] {
        App app = test::quiet_app();
        app.use(middleware::security_headers());
        app.get("/", [](Request&, Response& res) { res.send("hi"); });
        Request req(Request::Message{boost::beast::http::verb::get, "/", 11});
        Response res;
        boost::asio::io_context io;
        boost::asio::co_spawn(io, app.handle(req, res), boost::asio::detached);
        io.run();
        return res;
    };
    const Response res = answer();
    CHECK(res.status() == 200);
    CHECK(res.get("X-Frame-Options") == "DENY");
    std::size_t fields = 0;
    for (const auto& field : res.header()) fields += field.name_string() == "X-Content-Type-Options" ? 1 : 0;
    CHECK(fields == 1);
}

TEST_CASE("a value get() returned stays valid when the preset fields enter the header", "[middleware][security_headers]") {
    // The response holds the last reference to the fields of a security_headers made per
    // request: inserting them into the header must not free what get() pointed into.
    App app = test::quiet_app();
    std::string seen;
    app.use([&seen](Request&, Response& res, Next next) -> Task<> {
        co_await next();
        const std::string_view csp = res.get("Content-Security-Policy");
        res.set("X-Frame-Options", "SAMEORIGIN");  // inserts the preset fields
        (void)res.header();
        seen = std::string(csp);
    });
    app.use([](Request& req, Response& res, Next next) -> Task<> {
        middleware::SecurityHeadersOptions o;
        o.content_security_policy = "script-src 'nonce-abc'";
        auto step = middleware::security_headers(o);
        co_await step(req, res, std::move(next));
    });
    app.get("/", [](Request&, Response& res) { res.send("ok"); });
    testing::Client c(app);
    auto r = c.get("/");
    CHECK(seen == "script-src 'nonce-abc'");
    CHECK(r.header("X-Frame-Options") == "SAMEORIGIN");
}

TEST_CASE("assigning a response keeps a header reference taken before it whole", "[middleware][security_headers]") {
    using Fields = std::vector<std::pair<std::string, std::string>>;
    auto fields = std::make_shared<const detail::PresetFields>(Fields{{"X-Frame-Options", "DENY"}, {"X-A", "1"}});
    App app = test::quiet_app();
    app.use([](Request&, Response& res, Next next) -> Task<> {
        auto& h = res.header();  // held across next()
        co_await next();
        h.set(boost::beast::http::field::x_frame_options, "SAMEORIGIN");
    });
    app.get("/copy", [fields](Request&, Response& res) {
        Response cached;
        detail::ResponseAccess::preset(cached, fields);
        cached.send("cached");
        res = cached;
    });
    app.get("/move", [fields](Request&, Response& res) {
        Response cached;
        detail::ResponseAccess::preset(cached, fields);
        cached.send("moved");
        res = std::move(cached);
    });
    testing::Client c(app);
    for (const char* path : {"/copy", "/move"}) {
        INFO(path);
        auto r = c.get(path);
        std::vector<std::string> frame;
        for (const auto& field : r.headers)
            if (field.name_string() == "X-Frame-Options") frame.emplace_back(field.value());
        CHECK(frame == std::vector<std::string>{"SAMEORIGIN"});
        CHECK(r.header("X-A") == "1");
    }
}
