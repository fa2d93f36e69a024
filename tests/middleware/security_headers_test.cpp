#include <spur/middleware/security_headers.hpp>

#include <spur/app.hpp>
#include <spur/testing/client.hpp>

#include <catch2/catch.hpp>

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
