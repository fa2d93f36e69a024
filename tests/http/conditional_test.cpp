#include <spur/http/conditional.hpp>

#include <spur/app.hpp>
#include <spur/middleware/etag.hpp>
#include <spur/testing/client.hpp>

#include <catch2/catch.hpp>

TEST_CASE("make_etag quotes a version and refuses characters an entity tag cannot hold", "[http][conditional]") {
    CHECK(spur::make_etag("42") == "\"42\"");
    CHECK(spur::make_etag("a-1", true) == "W/\"a-1\"");
    CHECK_THROWS_AS(spur::make_etag("a\"b"), std::invalid_argument);
    CHECK_THROWS_AS(spur::make_etag("a b"), std::invalid_argument);
    CHECK_THROWS_AS(spur::make_etag("a\nb"), std::invalid_argument);
}

TEST_CASE("etag_matches compares strongly for If-Match and weakly for If-None-Match", "[http][conditional]") {
    CHECK(spur::etag_matches("\"1\"", "\"1\"", false));
    CHECK(spur::etag_matches(" \"0\" ,\"1\"", "\"1\"", false));
    CHECK(spur::etag_matches("*", "\"1\"", false));
    CHECK_FALSE(spur::etag_matches("W/\"1\"", "\"1\"", false));  // weak tags never match strongly
    CHECK_FALSE(spur::etag_matches("\"1\"", "W/\"1\"", false));
    CHECK(spur::etag_matches("W/\"1\"", "\"1\"", true));
    CHECK(spur::etag_matches("\"1\"", "W/\"1\"", true));
    CHECK_FALSE(spur::etag_matches("\"2\"", "\"1\"", true));
    CHECK_FALSE(spur::etag_matches("1", "\"1\"", true));          // unquoted: malformed
    CHECK_FALSE(spur::etag_matches("\"1", "\"1\"", true));        // unterminated
    CHECK_FALSE(spur::etag_matches("\"1\" x", "\"1\"", true));    // junk after a tag: malformed list
    CHECK_FALSE(spur::etag_matches("", "\"1\"", true));
}

namespace {
spur::App versioned_app(int& version, std::string& content) {
    spur::App app;
    app.get("/doc", [&](spur::Request& req, spur::Response& res) {
        if (spur::fresh(req, res, spur::make_etag(std::to_string(version)))) return;
        res.send(content);
    });
    app.put("/doc", [&](spur::Request& req, spur::Response& res) {
        spur::check_if_match(req, spur::make_etag(std::to_string(version)));
        content = req.body();
        ++version;
        res.set("ETag", spur::make_etag(std::to_string(version))).send(content);
    });
    app.del("/missing", [](spur::Request& req, spur::Response& res) {
        spur::check_if_match(req, std::nullopt);
        res.status(404).end();
    });
    return app;
}
}  // namespace

TEST_CASE("fresh() answers 304 without a body and check_if_match() refuses a stale write with 412 and the current ETag", "[http][conditional]") {
    int version = 1;
    std::string content = "first";
    auto app = versioned_app(version, content);
    spur::testing::Client client(app);
    auto r = client.get("/doc");
    CHECK(r.status == 200);
    CHECK(r.header("ETag") == "\"1\"");
    auto cached = client.get("/doc", {{"If-None-Match", "W/\"1\""}});
    CHECK(cached.status == 304);
    CHECK(cached.body.empty());
    CHECK(cached.header("ETag") == "\"1\"");

    CHECK(client.put("/doc", "second", {{"If-Match", "\"1\""}}).status == 200);
    auto stale = client.put("/doc", "third", {{"If-Match", "\"1\""}});
    CHECK(stale.status == 412);
    CHECK(stale.json().at("error").at("code") == "precondition_failed");
    CHECK(stale.header("ETag") == "\"2\"");
    CHECK(content == "second");
    CHECK(client.put("/doc", "blind", {}).status == 200);  // no If-Match: no check
    CHECK(client.del("/missing", {{"If-Match", "*"}}).status == 412);
    CHECK(client.del("/missing").status == 404);
}

TEST_CASE("middleware::etag tags 200 GET answers by their body and turns a revalidation into 304", "[http][conditional]") {
    spur::App app;
    app.use(spur::middleware::etag());
    app.get("/a", [](spur::Request&, spur::Response& res) { res.send("hello"); });
    app.get("/own", [](spur::Request&, spur::Response& res) { res.set("ETag", "\"v9\"").send("x"); });
    app.get("/stream", [](spur::Request&, spur::Response& res) {
        res.stream([](spur::BodyWriter& w) -> spur::Task<> { co_await w.write("s"); });
    });
    app.post("/a", [](spur::Request&, spur::Response& res) { res.send("hello"); });
    app.get("/created", [](spur::Request&, spur::Response& res) { res.status(201).send("hello"); });
    spur::testing::Client client(app);
    auto first = client.get("/a");
    const std::string tag(first.header("ETag"));
    CHECK(tag == "W/\"5-qvTGHdzF6KLavt4PO0gs2a6pQ00\"");  // length and SHA-1 of "hello", in the shape Express sends
    auto again = client.get("/a", {{"If-None-Match", tag}});
    CHECK(again.status == 304);
    CHECK(again.body.empty());
    CHECK(client.head("/a", {{"If-None-Match", tag}}).status == 304);
    CHECK(client.get("/own").header("ETag") == "\"v9\"");
    CHECK(client.get("/own", {{"If-None-Match", "\"v9\""}}).status == 304);
    CHECK(client.get("/stream").header("ETag").empty());
    CHECK(client.post("/a", "").header("ETag").empty());
    CHECK(client.get("/created").header("ETag").empty());
    CHECK(client.get("/a", {{"If-None-Match", "\"other\""}}).status == 200);
}
