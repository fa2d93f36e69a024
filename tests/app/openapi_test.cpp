#include "harness.hpp"

#include <spur/openapi/openapi.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <set>

using namespace app::test;
using boost::beast::http::verb;
namespace json = boost::json;

namespace {
// "/api/texts/:id" -> "/api/texts/{id}", as the document writes it.
std::string openapi_path(std::string pattern) {
    std::string out;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == ':' && (i == 0 || pattern[i - 1] == '/')) {
            auto end = pattern.find('/', i);
            out += "{" + pattern.substr(i + 1, end == std::string::npos ? std::string::npos : end - i - 1) + "}";
            i = end == std::string::npos ? pattern.size() : end - 1;
        } else {
            out.push_back(pattern[i]);
        }
    }
    return out;
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}
}  // namespace

TEST_CASE("every spur-app route is in the OpenAPI document and every documented operation is routed", "[app][openapi]") {
    Running running;
    auto app = app::build_app(running.services());
    const auto doc = spur::openapi_document(app);
    std::set<std::string> routed, documented;
    for (const auto& r : app.routes())
        if (r.documented) routed.insert(r.method + " " + openapi_path(r.pattern));
    for (const auto& [path, item] : doc.at("paths").as_object())
        for (const auto& [method, op] : item.as_object()) {
            std::string m(method);
            for (auto& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            documented.insert(m + " " + std::string(path));
        }
    CHECK(routed == documented);
    CHECK(documented.size() >= 17);
    // Every documented operation answers something other than the router's 404/405.
    for (const auto& op : documented) {
        INFO(op);
        const auto space = op.find(' ');
        std::string target = op.substr(space + 1);
        if (auto brace = target.find("{id}"); brace != std::string::npos) target.replace(brace, 4, "1");
        auto r = running.call(boost::beast::http::string_to_verb(op.substr(0, space)), target);
        CHECK(r.status != 405);
        if (r.status == 404) CHECK(r.json().at("error").at("message") != "Not Found");  // not the router's 404
    }
}

TEST_CASE("spur-app serves its document and the Swagger UI page from the npm-installed files", "[app][openapi]") {
    REQUIRE(std::filesystem::is_regular_file(std::filesystem::path(SPUR_APP_DOCS_ASSETS) / "swagger-ui-bundle.js"));
    auto config = test_config();
    config.docs_assets = SPUR_APP_DOCS_ASSETS;
    Running app(config);
    auto doc = get(app, "/openapi.json");
    REQUIRE(doc.status == 200);
    const auto v = doc.json();
    CHECK(v.at("openapi") == "3.1.0");
    CHECK(v.at("components").at("securitySchemes").at("apiKey").at("name") == "X-API-Key");
    CHECK(v.at("paths").at("/api/texts").at("post").at("security") == json::parse(R"([{"bearer":[]},{"session":[]},{"apiKey":[]}])"));
    auto page = get(app, "/docs");
    REQUIRE(page.status == 200);
    CHECK(std::string(page.header("Content-Security-Policy")).find("script-src 'self';") != std::string::npos);
    auto bundle = get(app, "/docs/assets/swagger-ui-bundle.js");
    CHECK(bundle.status == 200);
    CHECK(bundle.body.size() > 100000);
    CHECK(std::string(bundle.header("Cache-Control")).find("max-age=86400") != std::string::npos);
    CHECK(get(app, "/docs/assets/swagger-ui.css").status == 200);
    CHECK(lower(std::string(get(app, "/docs/init.js").header("Content-Type"))).starts_with("application/javascript"));
}

TEST_CASE("spur-app's validation errors list every problem with its JSON pointer, still as 400", "[app][openapi]") {
    Running app;
    auto r = post(app, "/api/auth/register", {{"email", 42}, {"password", "short"}, {"nickname", "x"}});
    REQUIRE(r.status == 400);
    const auto v = r.json();
    CHECK(v.at("error").at("code") == "validation_error");
    const auto& details = v.at("error").at("details").as_array();
    REQUIRE(details.size() == 3);
    CHECK(details[0].at("path") == "/email");
    CHECK(details[0].at("rule") == "type");
    CHECK(details[1].at("path") == "/password");
    CHECK(details[1].at("rule") == "minLength");
    CHECK(details[2].at("path") == "/nickname");
    CHECK(details[2].at("rule") == "additionalProperties");

    // bcrypt's 72-byte limit is checked beyond the type's 72 characters.
    auto wide = post(app, "/api/auth/register", {{"email", unique_email("w")}, {"password", std::string(30, 'p') + "ééééééééééééééééééééééé"}});
    REQUIRE(wide.status == 400);
    CHECK(wide.json().at("error").at("details").at(0).at("rule") == "maxBytes");

    auto token = signup(app, unique_email("q"));
    auto q = get(app, "/api/texts?limit=0&offset=-1", bearer(token));
    REQUIRE(q.status == 400);
    const auto qv = q.json();
    REQUIRE(qv.at("error").at("details").as_array().size() == 2);
    CHECK(qv.at("error").at("details").at(0).at("in") == "query");
    CHECK(get(app, "/api/texts/abc", bearer(token)).status == 404);
    CHECK(get(app, "/api/texts/0", bearer(token)).status == 404);
    auto empty = call(app, verb::put, "/api/texts/1", "{}", bearer(token));
    CHECK(empty.status == 400);
    CHECK(empty.json().at("error").at("details").at(0).at("rule") == "minProperties");
}

TEST_CASE("a route's documented security is the guard it runs - anonymous calls get 401 exactly there", "[app][openapi]") {
    Running running;
    auto app = app::build_app(running.services());
    const auto doc = spur::openapi_document(app);
    int guarded = 0;
    for (const auto& [path, item] : doc.at("paths").as_object())
        for (const auto& [method, op] : item.as_object()) {
            std::string m(method);
            for (auto& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            std::string target(path);
            if (auto brace = target.find("{id}"); brace != std::string::npos) target.replace(brace, 4, "1");
            INFO(m << " " << target);
            const bool secured = op.as_object().contains("security");
            auto r = running.call(boost::beast::http::string_to_verb(m), target);
            if (secured) {
                ++guarded;
                CHECK(r.status == 401);
                CHECK(r.header("WWW-Authenticate") == "Bearer");
                CHECK(op.at("responses").as_object().contains("401"));
            } else {
                CHECK(r.status != 401);
            }
        }
    CHECK(guarded == 15);  // 14, and POST /api/auth/verify-email
    // Texts take an API key as well; the account and its keys only a token.
    CHECK(doc.at("paths").at("/api/texts/{id}").at("put").at("security") == json::parse(R"([{"bearer":[]},{"session":[]},{"apiKey":[]}])"));
    CHECK(doc.at("paths").at("/api/keys").at("get").at("security") == json::parse(R"([{"bearer":[]},{"session":[]}])"));
    CHECK(doc.at("components").at("securitySchemes").at("session").at("in") == "cookie");
}
