#include <spur/middleware/request_id.hpp>

#include <spur/app.hpp>
#include <spur/testing/client.hpp>

#include <catch2/catch.hpp>

#include "support/text_shape.hpp"

using namespace spur;

namespace {
void add_echo(App& app) {
    app.get("/id", [](Request& req, Response& res) { res.send(std::string(middleware::request_id_of(req))); });
}
}  // namespace

TEST_CASE("a fresh UUIDv4 is generated, echoed, and visible to handlers", "[middleware][request_id]") {
    App app;
    app.use(middleware::request_id());
    add_echo(app);
    testing::Client c(app);
    auto a = c.get("/id");
    auto b = c.get("/id");
    CHECK(spur::test::is_uuid_v4(a.body));
    CHECK(a.header("X-Request-Id") == a.body);
    CHECK(a.body != b.body);
}

TEST_CASE("a sane incoming id is kept and an insane one replaced", "[middleware][request_id]") {
    App app;
    app.use(middleware::request_id());
    add_echo(app);
    testing::Client c(app);
    CHECK(c.get("/id", {{"X-Request-Id", "edge-1234.abc:9"}}).body == "edge-1234.abc:9");
    for (std::string bad : {std::string("has space"), std::string("<script>"), std::string(129, 'a'), std::string("")}) {
        auto r = c.get("/id", {{"X-Request-Id", bad}});
        CHECK(spur::test::is_uuid_v4(r.body));
    }
}

TEST_CASE("incoming ids can be ignored and the header renamed", "[middleware][request_id]") {
    App app;
    middleware::RequestIdOptions o;
    o.trust_incoming = false;
    o.header = "X-Correlation-Id";
    app.use(middleware::request_id(o));
    add_echo(app);
    testing::Client c(app);
    auto r = c.get("/id", {{"X-Correlation-Id", "client-chosen"}});
    CHECK(spur::test::is_uuid_v4(r.body));
    CHECK(r.header("X-Correlation-Id") == r.body);
}

TEST_CASE("an incoming id is kept only up to 64 characters of [A-Za-z0-9._:-]", "[middleware][request_id]") {
    App app;
    app.use(middleware::request_id());
    add_echo(app);
    testing::Client c(app);
    const std::string longest(64, 'a');
    CHECK(c.get("/id", {{"X-Request-Id", longest}}).body == longest);
    CHECK(c.get("/id", {{"X-Request-Id", "AZaz09._:-"}}).body == "AZaz09._:-");
    for (std::string bad : {std::string(65, 'a'), std::string(100, '7'), std::string("a\"b"), std::string("a=b"),
                            std::string("a\tb"), std::string("caf\xC3\xA9"), std::string("a/b"), std::string("{x}")}) {
        INFO(bad);
        auto r = c.get("/id", {{"X-Request-Id", bad}});
        CHECK(spur::test::is_uuid_v4(r.body));
        CHECK(r.header("X-Request-Id") == r.body);
    }
}
