#include "harness.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace app::test;
using boost::beast::http::verb;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {
// A built front end as Vite lays it out: index.html and hashed assets (one precompressed).
struct WebRoot {
    fs::path dir = fs::temp_directory_path() / ("spur-web-" + std::to_string(::getpid()));
    WebRoot() {
        fs::remove_all(dir);
        fs::create_directories(dir / "assets");
        std::ofstream(dir / "index.html") << "<!doctype html><script type=\"module\" src=\"/assets/index-abc.js\"></script>";
        std::ofstream(dir / "assets" / "index-abc.js") << "console.log('app')";
        std::ofstream(dir / "assets" / "index-abc.js.gz") << "GZ";
    }
    ~WebRoot() { fs::remove_all(dir); }
};

std::string cookie_value(const Reply& r) {
    auto set = std::string(r.header("Set-Cookie"));
    auto eq = set.find('=');
    return set.substr(eq + 1, set.find(';') - eq - 1);
}
}  // namespace

TEST_CASE("browser sessions: an HttpOnly SameSite=Strict cookie the guards accept, cleared on logout", "[app][web]") {
    Running app;
    auto email = unique_email("cookie");
    REQUIRE(post(app, "/api/auth/register", {{"email", email}, {"password", "password123"}}).status == 201);
    auto session = post(app, "/api/auth/session", {{"email", email}, {"password", "password123"}});
    REQUIRE(session.status == 200);
    const auto set = std::string(session.header("Set-Cookie"));
    CHECK(set.starts_with("spur_session="));
    CHECK(set.find("HttpOnly") != std::string::npos);
    CHECK(set.find("SameSite=Strict") != std::string::npos);
    CHECK(set.find("Max-Age=3600") != std::string::npos);
    CHECK(session.header("Cache-Control") == "private, no-store");
    CHECK_FALSE(session.json().as_object().contains("token"));  // the page never holds it
    const Headers cookie{{"Cookie", "spur_session=" + cookie_value(session)}};

    auto me = get(app, "/api/auth/me", cookie);
    REQUIRE(me.status == 200);
    CHECK(me.json().at("user").at("email") == json::value(email));
    CHECK(post(app, "/api/texts", {{"title", "t"}, {"content", "c"}}, cookie).status == 201);
    CHECK(post(app, "/api/auth/session", {{"email", email}, {"password", "wrong-password"}}).status == 401);

    // Another site's page cannot use the cookie to change anything (Fetch Metadata).
    Headers cross = cookie;
    cross.emplace_back("Sec-Fetch-Site", "cross-site");
    auto forged = post(app, "/api/texts", {{"title", "forged"}, {"content", "x"}}, cross);
    CHECK(forged.status == 403);
    Headers same = cookie;
    same.emplace_back("Sec-Fetch-Site", "same-origin");
    CHECK(post(app, "/api/texts", {{"title", "mine"}, {"content", "x"}}, same).status == 201);

    auto out = call(app, verb::post, "/api/auth/logout", {}, cookie);
    CHECK(out.status == 204);
    CHECK(std::string(out.header("Set-Cookie")).find("spur_session=;") != std::string::npos);
    CHECK(get(app, "/api/auth/me", cookie).status == 401);  // revoked, not just forgotten
}

TEST_CASE("a password change made by a browser session renews its cookie", "[app][web]") {
    Running app;
    auto email = unique_email("renew");
    REQUIRE(post(app, "/api/auth/register", {{"email", email}, {"password", "password123"}}).status == 201);
    auto session = post(app, "/api/auth/session", {{"email", email}, {"password", "password123"}});
    const Headers old_cookie{{"Cookie", "spur_session=" + cookie_value(session)}};
    auto changed = post(app, "/api/auth/password", {{"current_password", "password123"}, {"new_password", "password456"}}, old_cookie);
    REQUIRE(changed.status == 200);
    CHECK(get(app, "/api/auth/me", old_cookie).status == 401);
    CHECK(get(app, "/api/auth/me", {{"Cookie", "spur_session=" + cookie_value(changed)}}).status == 200);
}

TEST_CASE("the web front end: index.html for browser navigations, immutable precompressed assets, JSON 404 for the API", "[app][web]") {
    WebRoot web;
    auto config = test_config();
    config.web_root = web.dir.string();
    Running app(config);
    const Headers browser{{"Accept", "text/html,application/xhtml+xml"}};
    for (const char* path : {"/", "/texts/42", "/keys", "/login"}) {
        INFO(path);
        auto page = get(app, path, browser);
        REQUIRE(page.status == 200);
        CHECK(page.body.find("/assets/index-abc.js") != std::string::npos);
        CHECK(page.header("Cache-Control") == "no-cache");
        const auto csp = std::string(page.header("Content-Security-Policy"));
        CHECK(csp.find("script-src 'self';") != std::string::npos);
        CHECK(csp.find("unsafe-inline") == std::string::npos);
    }
    auto api = get(app, "/api/nothing", browser);
    CHECK(api.status == 404);
    CHECK(api.json().at("error").at("code") == "not_found");
    CHECK(get(app, "/texts/42").status == 404);  // not a browser navigation: no page
    auto asset = get(app, "/assets/index-abc.js", {{"Accept-Encoding", "gzip"}});
    REQUIRE(asset.status == 200);
    CHECK(asset.header("Cache-Control") == "public, max-age=31536000, immutable");
    CHECK(asset.header("Content-Encoding") == "gzip");
    CHECK(asset.body == "GZ");
    CHECK(get(app, "/assets/index-abc.js").body == "console.log('app')");
    CHECK(get(app, "/assets/missing.js").status == 404);
}
