#include <spur/request.hpp>

#include <spur/app.hpp>
#include <spur/http_error.hpp>
#include <spur/testing/client.hpp>

#include <boost/json/parse.hpp>

#include "support/error_body.hpp"

#include <catch2/catch.hpp>

using spur::Request;

namespace {
Request make(std::string_view target, std::vector<std::pair<std::string, std::string>> headers = {},
             std::string body = {}) {
    Request::Message m;
    m.method(boost::beast::http::verb::post);
    m.target(target);
    m.version(11);
    for (auto& [k, v] : headers) m.insert(k, v);
    m.body() = std::move(body);
    return Request(std::move(m), "10.0.0.1");
}
}  // namespace

TEST_CASE("path and query string are split from the target", "[core][request]") {
    auto req = make("/a/b?x=1&y=2");
    CHECK(req.path() == "/a/b");
    CHECK(req.query_string() == "x=1&y=2");
    CHECK(req.target() == "/a/b?x=1&y=2");
    CHECK(req.method() == "POST");
    CHECK(req.remote_address() == "10.0.0.1");
}

TEST_CASE("absolute-form targets route by their path", "[core][request]") {
    auto req = make("http://example.com/items/3?q=1");
    CHECK(req.path() == "/items/3");
    CHECK(req.query("q") == std::optional<std::string_view>("1"));
    CHECK(make("https://example.com").path() == "/");
}

TEST_CASE("query values are decoded - '+' is a space - repeated keys are kept in order", "[core][request]") {
    auto req = make("/s?q=caf%C3%A9+au+lait&tag=a&tag=b&empty=&flag&bad=%zz");
    CHECK(req.query("q") == std::optional<std::string_view>("café au lait"));
    CHECK(req.query_all("tag") == std::vector<std::string_view>{"a", "b"});
    CHECK(req.query("tag") == std::optional<std::string_view>("a"));
    CHECK(req.query("empty") == std::optional<std::string_view>(""));
    CHECK(req.query("flag") == std::optional<std::string_view>(""));
    CHECK(req.query("bad") == std::optional<std::string_view>("%zz"));  // lenient, like Express's qs
    CHECK_FALSE(req.query("missing").has_value());
}

TEST_CASE("headers are case-insensitive", "[core][request]") {
    auto req = make("/", {{"X-Custom-Thing", "v1"}, {"content-type", "application/json"}});
    CHECK(req.header("x-custom-thing") == "v1");
    CHECK(req.header("Content-Type") == "application/json");
    CHECK(req.has_header("X-CUSTOM-THING"));
    CHECK_FALSE(req.has_header("X-Other"));
    CHECK(req.header("X-Other").empty());
}

TEST_CASE("cookies are parsed from every Cookie header and decoded", "[core][request]") {
    auto req = make("/", {{"Cookie", "sid=abc123; theme=\"dark\"; name=J%C3%BCrgen"}, {"Cookie", "second=2; sid=later"}});
    CHECK(req.cookie("sid") == std::optional<std::string_view>("abc123"));  // the first one wins
    CHECK(req.cookie("theme") == std::optional<std::string_view>("dark"));
    CHECK(req.cookie("name") == std::optional<std::string_view>("Jürgen"));
    CHECK(req.cookie("second") == std::optional<std::string_view>("2"));
    CHECK_FALSE(req.cookie("none").has_value());
}

TEST_CASE("json() parses the body - invalid JSON is HttpError 400 invalid_json", "[core][request]") {
    auto ok = make("/", {}, R"({"a":[1,2,{"b":null}]})");
    CHECK(ok.json() == boost::json::parse(R"({"a":[1,2,{"b":null}]})"));
    for (std::string bad : {"", "{", "{\"a\":}", "[1,2", "nul", "{\"a\":1} trailing"}) {
        auto req = make("/", {}, bad);
        try {
            (void)req.json();
            FAIL("accepted invalid JSON: " << bad);
        } catch (const spur::HttpError& e) {
            CHECK(e.status() == 400);
            CHECK(e.code() == "invalid_json");
        }
    }
}

TEST_CASE("invalid JSON through the app answers 400 with the error body", "[core][request]") {
    spur::App app;
    app.post("/items", [](Request& req, spur::Response& res) { res.status(201).json(req.json()); });
    spur::testing::Client c(app);
    auto bad = c.post("/items", "{not json", {{"Content-Type", "application/json"}});
    CHECK(bad.status == 400);
    CHECK(spur::test::without_request_id(bad.json()) == boost::json::parse(
                            R"({"success":false,"error":{"code":"invalid_json","message":"Request body is not valid JSON"}})"));
    auto good = c.post_json("/items", {{"name", "x"}});
    CHECK(good.status == 201);
    CHECK(good.json().at("name") == "x");
}

TEST_CASE("deeply nested JSON is refused instead of exhausting the stack", "[core][request]") {
    auto req = make("/", {}, std::string(100000, '[') + std::string(100000, ']'));
    CHECK_THROWS_AS(req.json(), spur::HttpError);
}
