#include <spur/middleware/cors.hpp>

#include <spur/app.hpp>
#include <spur/testing/client.hpp>

#include <catch2/catch.hpp>

using namespace spur;

namespace {
App make_app(middleware::CorsOptions o) {
    App app;
    app.use(middleware::cors(std::move(o)));
    app.get("/data", [](Request&, Response& res) { res.json({{"ok", true}}); });
    app.post("/data", [](Request&, Response& res) { res.status(201).end(); });
    return app;
}
middleware::CorsOptions listed(bool credentials = false) {
    middleware::CorsOptions o;
    o.origins = {"https://app.example.com"};
    o.credentials = credentials;
    o.exposed_headers = {"X-Total-Count"};
    return o;
}
}  // namespace

TEST_CASE("an allowed origin gets its origin echoed and Vary: Origin", "[middleware][cors]") {
    App app = make_app(listed());
    testing::Client c(app);
    auto r = c.get("/data", {{"Origin", "https://app.example.com"}});
    CHECK(r.status == 200);
    CHECK(r.header("Access-Control-Allow-Origin") == "https://app.example.com");
    CHECK(r.header("Access-Control-Expose-Headers") == "X-Total-Count");
    CHECK(r.header("Vary") == "Origin");
    CHECK(r.header("Access-Control-Allow-Credentials").empty());
}

TEST_CASE("another origin gets no CORS headers but still varies", "[middleware][cors]") {
    App app = make_app(listed());
    testing::Client c(app);
    auto r = c.get("/data", {{"Origin", "https://evil.example"}});
    CHECK(r.status == 200);
    CHECK(r.header("Access-Control-Allow-Origin").empty());
    CHECK(r.header("Vary") == "Origin");
    CHECK(c.get("/data", {{"Origin", "https://app.example.com.evil.example"}}).header("Access-Control-Allow-Origin").empty());
    CHECK(c.get("/data", {{"Origin", "null"}}).header("Access-Control-Allow-Origin").empty());
}

TEST_CASE("requests without Origin pass untouched", "[middleware][cors]") {
    App app = make_app(listed());
    testing::Client c(app);
    auto r = c.get("/data");
    CHECK(r.header("Vary").empty());
    CHECK(r.header("Access-Control-Allow-Origin").empty());
}

TEST_CASE("a preflight is answered 204 with methods, headers and max-age", "[middleware][cors]") {
    App app = make_app(listed(true));
    testing::Client c(app);
    auto r = c.options("/data", {{"Origin", "https://app.example.com"},
                                 {"Access-Control-Request-Method", "POST"},
                                 {"Access-Control-Request-Headers", "content-type, authorization"}});
    CHECK(r.status == 204);
    CHECK(r.body.empty());
    CHECK(r.header("Access-Control-Allow-Origin") == "https://app.example.com");
    CHECK(r.header("Access-Control-Allow-Credentials") == "true");
    CHECK(r.header("Access-Control-Allow-Methods") == "GET, HEAD, PUT, PATCH, POST, DELETE");
    CHECK(r.header("Access-Control-Allow-Headers") == "content-type, authorization");
    CHECK(r.header("Access-Control-Max-Age") == "600");
    CHECK(r.header("Vary") == "Origin, Access-Control-Request-Headers");
}

TEST_CASE("a preflight from another origin is 204 without permission", "[middleware][cors]") {
    App app = make_app(listed());
    testing::Client c(app);
    auto r = c.options("/data", {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
    CHECK(r.status == 204);
    CHECK(r.header("Access-Control-Allow-Origin").empty());
    CHECK(r.header("Access-Control-Allow-Methods").empty());
}

TEST_CASE("a wildcard without credentials answers * and does not vary", "[middleware][cors]") {
    middleware::CorsOptions o;
    o.origins = {"*"};
    App app = make_app(o);
    testing::Client c(app);
    auto r = c.get("/data", {{"Origin", "https://anyone.example"}});
    CHECK(r.header("Access-Control-Allow-Origin") == "*");
    CHECK(r.header("Vary").empty());
}

TEST_CASE("a wildcard together with credentials is refused when the middleware is made", "[middleware][cors]") {
    // It would let any site read a logged-in user's responses (the origin would be reflected
    // with credentials allowed). A predicate that decides per origin stays possible.
    middleware::CorsOptions o;
    o.origins = {"https://app.example", "*"};
    o.credentials = true;
    CHECK_THROWS_AS(middleware::cors(o), std::invalid_argument);
    o.origins = {"https://app.example"};
    CHECK_NOTHROW(middleware::cors(o));
}

TEST_CASE("an origin predicate decides and junk in requested headers is not reflected", "[middleware][cors]") {
    middleware::CorsOptions o;
    o.allow_origin = [](std::string_view origin) { return origin.ends_with(".trusted.example"); };
    App app = make_app(o);
    testing::Client c(app);
    CHECK(c.get("/data", {{"Origin", "https://a.trusted.example"}}).header("Access-Control-Allow-Origin") ==
          "https://a.trusted.example");
    CHECK(c.get("/data", {{"Origin", "https://trusted.example.evil"}}).header("Access-Control-Allow-Origin").empty());
    auto r = c.options("/data", {{"Origin", "https://a.trusted.example"},
                                 {"Access-Control-Request-Method", "GET"},
                                 {"Access-Control-Request-Headers", "x-ok, <script>"}});
    CHECK(r.header("Access-Control-Allow-Headers").empty());
}

TEST_CASE("CORS headers stay on error responses", "[middleware][cors]") {
    App app = make_app(listed());
    testing::Client c(app);
    auto r = c.get("/missing", {{"Origin", "https://app.example.com"}});
    CHECK(r.status == 404);
    CHECK(r.header("Access-Control-Allow-Origin") == "https://app.example.com");
}
