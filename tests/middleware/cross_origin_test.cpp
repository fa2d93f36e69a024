#include <spur/middleware/cross_origin.hpp>

#include <spur/app.hpp>
#include <spur/testing/client.hpp>
#include <spur/websocket.hpp>

#include <catch2/catch.hpp>

using namespace spur;

namespace {
App protected_app(middleware::CrossOriginOptions o = {}) {
    App app;
    app.use(middleware::cross_origin_protection(std::move(o)));
    app.get("/profile", [](Request&, Response& res) { res.send("profile"); });
    app.post("/profile", [](Request&, Response& res) { res.send("changed"); });
    app.post("/hooks/payment", [](Request&, Response& res) { res.send("hooked"); });
    return app;
}
std::string code_of(const testing::Result& r) {
    auto pos = r.body.find("\"code\":\"");
    return pos == std::string::npos ? "" : r.body.substr(pos + 8, r.body.find('"', pos + 8) - pos - 8);
}
}  // namespace

TEST_CASE("cross-origin protection: Sec-Fetch-Site decides for browsers that send it", "[middleware][cross_origin]") {
    App app = protected_app();
    testing::Client c(app);
    auto post = [&](testing::Headers h) { return c.request("POST", "/profile", "x", std::move(h)); };
    CHECK(post({{"Sec-Fetch-Site", "same-origin"}}).status == 200);
    CHECK(post({{"Sec-Fetch-Site", "none"}}).status == 200);  // the user's own navigation
    auto cross = post({{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://evil.example"}});
    CHECK(cross.status == 403);
    CHECK(code_of(cross) == "cross_origin_request");
    CHECK(post({{"Sec-Fetch-Site", "same-site"}, {"Origin", "https://sub.example.com"}}).status == 403);
    // Even with a matching Host: the browser's word wins over headers a page cannot set anyway.
    CHECK(post({{"Sec-Fetch-Site", "cross-site"}, {"Host", "evil.example"}, {"Origin", "https://evil.example"}}).status == 403);
    // Safe methods are never refused: they must not change anything.
    CHECK(c.request("GET", "/profile", "", {{"Sec-Fetch-Site", "cross-site"}}).status == 200);
}

TEST_CASE("cross-origin protection: without Fetch Metadata, Origin is compared with Host", "[middleware][cross_origin]") {
    App app = protected_app();
    testing::Client c(app);
    auto post = [&](testing::Headers h) { return c.request("POST", "/profile", "x", std::move(h)); };
    CHECK(post({{"Host", "app.example.com"}, {"Origin", "https://app.example.com"}}).status == 200);
    CHECK(post({{"Host", "App.Example.com:8443"}, {"Origin", "https://app.example.com:8443"}}).status == 200);
    CHECK(post({{"Host", "app.example.com"}, {"Origin", "https://evil.example"}}).status == 403);
    CHECK(post({{"Host", "app.example.com"}, {"Origin", "https://app.example.com:8443"}}).status == 403);  // port counts
    CHECK(post({{"Host", "app.example.com"}, {"Origin", "null"}}).status == 403);  // sandboxed frames, file: pages
    // Neither header: not a browser, so no ambient cookies to abuse (curl, servers, API clients).
    CHECK(post({}).status == 200);
}

TEST_CASE("cross-origin protection: trusted origins and bypass paths - bad origins throw at configuration", "[middleware][cross_origin]") {
    middleware::CrossOriginOptions o;
    o.trusted_origins = {"https://Admin.Example.com"};
    o.bypass_paths = {"/hooks/payment"};
    App app = protected_app(o);
    testing::Client c(app);
    CHECK(c.request("POST", "/profile", "x", {{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://admin.example.com"}}).status == 200);
    CHECK(c.request("POST", "/profile", "x", {{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://other.example.com"}}).status == 403);
    CHECK(c.request("POST", "/hooks/payment", "x", {{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://psp.example"}}).status == 200);

    for (const char* bad : {"admin.example.com", "https://admin.example.com/path", "https://", "*"}) {
        middleware::CrossOriginOptions b;
        b.trusted_origins = {bad};
        CHECK_THROWS_AS(middleware::cross_origin_protection(b), std::invalid_argument);
    }
}

namespace {
const testing::Headers upgrade = {{"Connection", "Upgrade"}, {"Upgrade", "websocket"}, {"Sec-WebSocket-Version", "13"},
                                  {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}, {"Host", "chat.example.com"}};
testing::Headers with(testing::Headers h, std::string name, std::string value) {
    h.emplace_back(std::move(name), std::move(value));
    return h;
}
Task<> echo(WebSocket&) { co_return; }
}  // namespace

TEST_CASE("a WebSocket route refuses another site's Origin with 403 - its own, none, or listed ones pass", "[middleware][websocket][cross_origin]") {
    App app;
    app.ws("/chat", echo);
    app.ws("/widget", middleware::websocket_origins({"https://partner.example"}), echo);
    app.ws("/public", middleware::websocket_origins({"*"}), echo);
    testing::Client c(app);
    auto open = [&](const std::string& path, const testing::Headers& h) { return c.request("GET", path, "", h); };

    auto hijack = open("/chat", with(upgrade, "Origin", "https://evil.example"));
    CHECK(hijack.status == 403);
    CHECK(code_of(hijack) == "origin_not_allowed");
    CHECK(open("/chat", with(upgrade, "Origin", "https://chat.example.com")).status == 101);
    CHECK(open("/chat", upgrade).status == 101);  // no Origin: not a browser
    CHECK(open("/chat", with(upgrade, "Origin", "https://partner.example")).status == 403);
    CHECK(open("/widget", with(upgrade, "Origin", "https://partner.example")).status == 101);
    CHECK(open("/widget", with(upgrade, "Origin", "https://evil.example")).status == 403);
    CHECK(open("/public", with(upgrade, "Origin", "https://evil.example")).status == 101);
    CHECK_THROWS_AS(middleware::websocket_origins({"partner.example"}), std::invalid_argument);
}
