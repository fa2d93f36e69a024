#include <spur/router.hpp>

#include <spur/app.hpp>
#include <spur/testing/client.hpp>

#include <boost/json/parse.hpp>

#include "support/error_body.hpp"
#include "support/quiet_app.hpp"

#include <catch2/catch.hpp>

using spur::App;
using spur::Request;
using spur::Response;
using spur::testing::Client;

namespace {

using spur::test::quiet_app;
auto reply(std::string text) {
    return [text](Request&, Response& res) { res.send(text); };
}
}  // namespace

TEST_CASE("static segments beat parameters - which beat wildcards", "[core][router]") {
    App app;
    app.get("/users/me", reply("me"));
    app.get("/users/:id", [](Request& req, Response& res) { res.send("id=" + std::string(req.param("id"))); });
    app.get("/users/*rest", [](Request& req, Response& res) { res.send("rest=" + std::string(req.param("rest"))); });
    Client c(app);
    CHECK(c.get("/users/me").body == "me");
    CHECK(c.get("/users/42").body == "id=42");
    CHECK(c.get("/users/42/posts/7").body == "rest=42/posts/7");
}

TEST_CASE("matching backtracks when the static branch has no route", "[core][router]") {
    App app;
    app.get("/a/b/c", reply("static"));
    app.get("/a/:x/d", [](Request& req, Response& res) { res.send("param " + std::string(req.param("x"))); });
    Client c(app);
    CHECK(c.get("/a/b/d").body == "param b");
    CHECK(c.get("/a/b/c").body == "static");
}

TEST_CASE("a method on the param branch is found when the static branch lacks it", "[core][router]") {
    App app;
    app.get("/users/me", reply("get me"));
    app.post("/users/:id", [](Request& req, Response& res) { res.status(201).send(std::string(req.param("id"))); });
    Client c(app);
    auto r = c.post("/users/me", "");
    CHECK(r.status == 201);
    CHECK(r.body == "me");
}

TEST_CASE("unknown path answers 404 with the JSON error body", "[core][router]") {
    App app;
    app.get("/x", reply("x"));
    Client c(app);
    auto r = c.get("/nope");
    CHECK(r.status == 404);
    CHECK(r.header("Content-Type") == "application/json");
    CHECK(spur::test::without_request_id(r.json()) == boost::json::parse(R"({"success":false,"error":{"code":"not_found","message":"Not Found"}})"));
}

TEST_CASE("unknown method on known path answers 405 with Allow", "[core][router]") {
    App app;
    app.get("/items", reply("list"));
    app.post("/items", reply("create"));
    Client c(app);
    auto r = c.del("/items");
    CHECK(r.status == 405);
    CHECK(r.header("Allow") == "GET, HEAD, POST, OPTIONS");
    CHECK(r.json().at("error").at("code") == "method_not_allowed");
}

TEST_CASE("405 Allow merges methods of every route matching the path", "[core][router]") {
    App app;
    app.get("/u/me", reply("a"));
    app.put("/u/:id", reply("b"));
    Client c(app);
    auto r = c.patch("/u/me", "");
    CHECK(r.status == 405);
    CHECK(r.header("Allow") == "GET, HEAD, PUT, OPTIONS");
}

TEST_CASE("HEAD runs the GET handler and sends headers without the body", "[core][router]") {
    App app;
    app.get("/doc", reply("twelve bytes"));
    Client c(app);
    auto r = c.head("/doc");
    CHECK(r.status == 200);
    CHECK(r.body.empty());
    CHECK(r.header("Content-Length") == "12");
}

TEST_CASE("an explicit HEAD route wins over the GET fallback", "[core][router]") {
    App app;
    app.get("/doc", reply("body"));
    app.head("/doc", [](Request&, Response& res) { res.set("X-Head", "yes").end(); });
    Client c(app);
    CHECK(c.head("/doc").header("X-Head") == "yes");
}

TEST_CASE("automatic OPTIONS answers 204 with Allow", "[core][router]") {
    App app;
    app.get("/thing", reply("t"));
    app.del("/thing", reply("d"));
    Client c(app);
    auto r = c.options("/thing");
    CHECK(r.status == 204);
    CHECK(r.header("Allow") == "GET, HEAD, DELETE, OPTIONS");
    CHECK(r.body.empty());
}

TEST_CASE("all() matches any method not registered explicitly", "[core][router]") {
    App app;
    app.all("/any", [](Request& req, Response& res) { res.send(std::string(req.method())); });
    app.get("/any", reply("explicit get"));
    Client c(app);
    CHECK(c.get("/any").body == "explicit get");
    CHECK(c.request("PROPFIND", "/any").body == "PROPFIND");
    CHECK(c.del("/any").body == "DELETE");
}

TEST_CASE("route params are percent-decoded - a malformed escape is 400", "[core][router]") {
    App app;
    app.get("/files/:name", [](Request& req, Response& res) { res.send(std::string(req.param("name"))); });
    Client c(app);
    CHECK(c.get("/files/a%20b%2Fc").body == "a b/c");
    CHECK(c.get("/files/caf%C3%A9").body == "café");
    auto bad = c.get("/files/%zz");
    CHECK(bad.status == 400);
    CHECK(bad.json().at("error").at("code") == "bad_request");
}

TEST_CASE("a trailing slash on the request path is ignored", "[core][router]") {
    App app;
    app.get("/users", reply("users"));
    Client c(app);
    CHECK(c.get("/users/").body == "users");
    CHECK(c.get("/users?x=1").body == "users");
}

TEST_CASE("wildcard also matches an empty remainder", "[core][router]") {
    App app;
    app.get("/static/*", [](Request& req, Response& res) { res.send("[" + std::string(req.param("*")) + "]"); });
    Client c(app);
    CHECK(c.get("/static").body == "[]");
    CHECK(c.get("/static/css/site.css").body == "[css/site.css]");
}

TEST_CASE("conflicting registrations are errors at startup - not silent shadows", "[core][router]") {
    App app;
    app.get("/users/:id", reply("a"));
    CHECK_THROWS_AS(app.get("/users/:id", reply("b")), std::logic_error);
    CHECK_THROWS_AS(app.get("/users/:name", reply("c")), std::logic_error);
    CHECK_THROWS_AS(app.get("/users/:id/", reply("d")), std::logic_error);  // same route once normalised
    CHECK_NOTHROW(app.post("/users/:id", reply("e")));
    app.get("/f/*a", reply("f"));
    CHECK_THROWS_AS(app.get("/f/*b", reply("g")), std::logic_error);
}

TEST_CASE("malformed patterns are rejected", "[core][router]") {
    App app;
    CHECK_THROWS_AS(app.get("no-slash", reply("x")), std::invalid_argument);
    CHECK_THROWS_AS(app.get("/a//b", reply("x")), std::invalid_argument);
    CHECK_THROWS_AS(app.get("/a/:", reply("x")), std::invalid_argument);
    CHECK_THROWS_AS(app.get("/a/*/b", reply("x")), std::invalid_argument);
    CHECK_THROWS_AS(app.get("/a/b:c", reply("x")), std::invalid_argument);
    CHECK_THROWS_AS(app.route("GE T", "/x", reply("x")), std::invalid_argument);
}

TEST_CASE("mounted routers get the prefix and their own middleware - in order", "[core][router]") {
    App app;
    std::vector<std::string> trace;
    app.use([&](Request&, Response&, spur::Next next) -> spur::Task<> {
        trace.push_back("global");
        co_await next();
    });
    spur::Router api;
    api.use([&](Request&, Response&, spur::Next next) -> spur::Task<> {
        trace.push_back("api");
        co_await next();
    });
    spur::Router v1;
    v1.use([&](Request&, Response&, spur::Next next) -> spur::Task<> {
        trace.push_back("v1");
        co_await next();
    });
    v1.get(
        "/items/:id",
        [&](Request&, Response&, spur::Next next) -> spur::Task<> {
            trace.push_back("route");
            co_await next();
        },
        [&](Request& req, Response& res) {
            trace.push_back("handler");
            res.send(std::string(req.param("id")));
        });
    api.mount("/v1", v1);
    app.mount("/api", api);
    app.get("/plain", reply("plain"));

    Client c(app);
    CHECK(c.get("/api/v1/items/9").body == "9");
    CHECK(trace == std::vector<std::string>{"global", "api", "v1", "route", "handler"});
    trace.clear();
    CHECK(c.get("/plain").body == "plain");
    CHECK(trace == std::vector<std::string>{"global"});  // router middleware stays with its routes
    CHECK(c.get("/v1/items/9").status == 404);
}

TEST_CASE("mounting a router whose route already exists in the app is a conflict", "[core][router]") {
    App app;
    app.get("/api/x", reply("app"));
    spur::Router r;
    r.get("/x", reply("router"));
    CHECK_THROWS_AS(app.mount("/api", r), std::logic_error);
}

TEST_CASE("registration after the app started serving throws", "[core][router]") {
    App app = quiet_app();
    app.get("/a", reply("a"));
    Client c(app);
    c.get("/a");
    CHECK_THROWS_AS(app.get("/b", reply("b")), std::logic_error);
    CHECK_THROWS_AS(app.use([](Request&, Response&, spur::Next n) -> spur::Task<> { co_await n(); }), std::logic_error);
}
