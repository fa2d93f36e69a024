// spur::Header and spur::Cookie: typed headers and cookies, their problems listed with every
// other input's, and their OpenAPI parameters.
#include <spur/contract/contract.hpp>

#include <spur/app.hpp>
#include <spur/openapi/openapi.hpp>
#include <spur/serving.hpp>
#include <spur/testing/client.hpp>

#include <boost/describe.hpp>
#include <boost/json.hpp>

#include <catch2/catch.hpp>

#include "contract/violations.hpp"

#include <algorithm>
#include <optional>
#include <string>

namespace header_cookie_test {

struct Conditions {
    spur::String<1, 64> if_match;
    std::optional<spur::Int<1, 100>> x_page_size;
};
BOOST_DESCRIBE_STRUCT(Conditions, (), (if_match, x_page_size))

struct Prefs {
    spur::String<1, 40> session_id;
    std::optional<spur::String<0, 10, "^[a-z]*$">> theme;
};
BOOST_DESCRIBE_STRUCT(Prefs, (), (session_id, theme))

// Renames its member: the header is X-API-Key, not X-Api-Key-Value.
struct ApiKey {
    std::string x_api_key_value;
    static std::string_view wire_name(std::string_view) { return "X-API-Key"; }
};
BOOST_DESCRIBE_STRUCT(ApiKey, (), (x_api_key_value))

struct Note {
    spur::String<1, 10> text;
};
BOOST_DESCRIBE_STRUCT(Note, (), (text))

}  // namespace header_cookie_test

namespace header_cookie_test {
namespace json = boost::json;
using spur::test::details;
using spur::test::has_violation;

namespace {

spur::App typed_app() {
    spur::App app;
    app.get("/conditions", [](spur::Request&, spur::Response& res, spur::Header<Conditions> h) {
        res.json({{"if_match", std::string(h->if_match)},
                  {"page", h->x_page_size ? json::value(static_cast<std::int64_t>(*h->x_page_size)) : json::value(nullptr)}});
    });
    app.get("/prefs", [](spur::Request&, spur::Response& res, spur::Cookie<Prefs> c) {
        res.json({{"session", std::string(c->session_id)}, {"theme", c->theme ? json::value(std::string(*c->theme)) : json::value(nullptr)}});
    });
    app.get("/key", [](spur::Request&, spur::Response& res, spur::Header<ApiKey> k) { res.send(k->x_api_key_value); });
    app.get("/one", [](spur::Request&, spur::Response& res, spur::Header<spur::Int<1, 9>, "X-Level"> level,
                       spur::Cookie<std::string, "theme"> theme) {
        res.send(std::to_string(static_cast<std::int64_t>(*level)) + " " + *theme);
    });
    app.post("/notes", [](spur::Request&, spur::Response& res, spur::Body<Note> n, spur::Header<Conditions> h,
                          spur::Cookie<Prefs> c) { res.send(std::string(n->text) + std::string(h->if_match) + std::string(c->session_id)); });
    return app;
}

}  // namespace

TEST_CASE("Header<T> reads each member from the header its name spells", "[contract]") {
    auto app = typed_app();
    spur::testing::Client client(app);
    auto r = client.get("/conditions", {{"if-match", "\"v3\""}, {"X-Page-Size", "20"}});
    REQUIRE(r.status == 200);
    CHECK(r.json() == json::parse(R"({"if_match":"\"v3\"","page":20})"));

    auto optional_absent = client.get("/conditions", {{"If-Match", "*"}});
    CHECK(optional_absent.status == 200);
    CHECK(optional_absent.json().at("page").is_null());
}

TEST_CASE("Header<T> problems are a ValidationError in the header - every one listed", "[contract]") {
    auto app = typed_app();
    spur::testing::Client client(app);
    auto missing = client.get("/conditions", {{"X-Page-Size", "500"}});
    REQUIRE(missing.status == 422);
    CHECK(missing.json().at("error").at("code") == "validation_error");
    const auto d = details(missing);
    CHECK(d.size() == 2);
    CHECK(has_violation(d, "header", "/If-Match", "required"));
    CHECK(has_violation(d, "header", "/X-Page-Size", "maximum"));

    auto empty = client.get("/conditions", {{"If-Match", ""}});
    CHECK(empty.status == 422);
    CHECK(has_violation(details(empty), "header", "/If-Match", "required"));

    auto not_a_number = client.get("/conditions", {{"If-Match", "x"}, {"X-Page-Size", "ten"}});
    CHECK(not_a_number.status == 422);
    CHECK(details(not_a_number).size() == 1);
    CHECK(has_violation(details(not_a_number), "header", "/X-Page-Size", "type"));
}

TEST_CASE("Cookie<T> reads each member from the cookie of its name - case-sensitive", "[contract]") {
    auto app = typed_app();
    spur::testing::Client client(app);
    auto r = client.get("/prefs", {{"Cookie", "session_id=abc; theme=dark"}});
    REQUIRE(r.status == 200);
    CHECK(r.json() == json::parse(R"({"session":"abc","theme":"dark"})"));

    auto wrong_case = client.get("/prefs", {{"Cookie", "Session_ID=abc; theme=Dark!"}});
    REQUIRE(wrong_case.status == 422);
    const auto d = details(wrong_case);
    CHECK(d.size() == 2);
    CHECK(has_violation(d, "cookie", "/session_id", "required"));
    CHECK(has_violation(d, "cookie", "/theme", "pattern"));

    auto none = client.get("/prefs");
    CHECK(none.status == 422);
    CHECK(has_violation(details(none), "cookie", "/session_id", "required"));
}

TEST_CASE("a single named header or cookie - and a struct that renames its header", "[contract]") {
    auto app = typed_app();
    spur::testing::Client client(app);
    auto one = client.get("/one", {{"X-Level", "7"}, {"Cookie", "theme=light"}});
    CHECK(one.status == 200);
    CHECK(one.body == "7 light");
    auto bad = client.get("/one", {{"X-Level", "0"}});
    REQUIRE(bad.status == 422);
    CHECK(has_violation(details(bad), "header", "/X-Level", "minimum"));
    CHECK(has_violation(details(bad), "cookie", "/theme", "required"));

    auto key = client.get("/key", {{"x-api-key", "k-123"}});
    CHECK(key.status == 200);
    CHECK(key.body == "k-123");
    CHECK(client.get("/key", {{"X-Api-Key-Value", "k-123"}}).status == 422);
}

TEST_CASE("body, header and cookie problems come back in one answer", "[contract]") {
    auto app = typed_app();
    spur::testing::Client client(app);
    auto r = client.post_json("/notes", {{"text", ""}});
    REQUIRE(r.status == 422);
    const auto d = details(r);
    CHECK(has_violation(d, "body", "/text", "minLength"));
    CHECK(has_violation(d, "header", "/If-Match", "required"));
    CHECK(has_violation(d, "cookie", "/session_id", "required"));

    auto ok = client.post_json("/notes", {{"text", "hi"}}, {{"If-Match", "v"}, {"Cookie", "session_id=s"}});
    CHECK(ok.status == 200);
    CHECK(ok.body == "hivs");
}

TEST_CASE("Header and Cookie inputs are OpenAPI parameters in header and in cookie", "[contract][openapi]") {
    auto app = typed_app();
    spur::openapi(app, {});
    const auto doc = spur::openapi_document(app);
    const auto& params = doc.at("paths").at("/conditions").at("get").at("parameters").as_array();
    REQUIRE(params.size() == 2);
    CHECK(params[0].at("name") == "If-Match");
    CHECK(params[0].at("in") == "header");
    CHECK(params[0].at("required") == true);
    CHECK(params[0].at("schema").at("maxLength") == 64);
    CHECK(params[1].at("name") == "X-Page-Size");
    CHECK(params[1].at("required") == false);
    CHECK(params[1].at("schema").at("maximum") == 100);

    const auto& cookies = doc.at("paths").at("/prefs").at("get").at("parameters").as_array();
    REQUIRE(cookies.size() == 2);
    CHECK(cookies[0].at("name") == "session_id");
    CHECK(cookies[0].at("in") == "cookie");
    CHECK(cookies[1].at("schema").at("pattern") == "^[a-z]*$");

    const auto& renamed = doc.at("paths").at("/key").at("get").at("parameters").as_array();
    REQUIRE(renamed.size() == 1);
    CHECK(renamed[0].at("name") == "X-API-Key");
    CHECK(doc.at("paths").at("/conditions").at("get").at("responses").as_object().contains("422"));
    const auto& in_enum = doc.at("components").at("schemas").at("Violation").at("properties").at("in").at("enum").as_array();
    CHECK(std::find(in_enum.begin(), in_enum.end(), json::value("cookie")) != in_enum.end());
}

}  // namespace header_cookie_test
