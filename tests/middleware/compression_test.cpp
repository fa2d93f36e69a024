#include <spur/middleware/compression.hpp>

#include <spur/app.hpp>
#include <spur/offload.hpp>
#include <spur/testing/client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "support/flag.hpp"

#include <catch2/catch.hpp>
#include <zlib.h>

using namespace spur;

namespace {
// Inflates gzip (gzip=true) or zlib data, as a client would.
std::string inflate_body(const std::string& in, bool gzip) {
    z_stream zs{};
    REQUIRE(inflateInit2(&zs, gzip ? 15 + 16 : 15) == Z_OK);
    std::string out(in.size() * 50 + 1024, '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    int rc = inflate(&zs, Z_FINISH);
    out.resize(zs.total_out);
    inflateEnd(&zs);
    REQUIRE(rc == Z_STREAM_END);
    return out;
}

const std::string big_json = [] {
    std::string s = "[";
    for (int i = 0; i < 500; ++i) s += R"({"id":)" + std::to_string(i) + R"(,"name":"item"},)";
    s.back() = ']';
    return s;
}();

App make_app(middleware::CompressionOptions o = {}) {
    App app;
    app.use(middleware::compression(o));
    app.get("/json", [](Request&, Response& res) { res.type("json").set("ETag", "\"v1\"").send(big_json); });
    app.get("/small", [](Request&, Response& res) { res.type("json").send(R"({"a":1})"); });
    app.get("/png", [](Request&, Response& res) { res.type("image/png").send(std::string(5000, 'x')); });
    app.get("/encoded", [](Request&, Response& res) { res.type("text").set("Content-Encoding", "br").send(std::string(5000, 'x')); });
    app.get("/no-transform", [](Request&, Response& res) { res.type("text").set("Cache-Control", "no-transform").send(std::string(5000, 'x')); });
    app.get("/empty", [](Request&, Response& res) { res.status(204).end(); });
    return app;
}
}  // namespace

TEST_CASE("gzip is chosen when accepted and the body round-trips", "[middleware][compression]") {
    App app = make_app();
    testing::Client c(app);
    auto r = c.get("/json", {{"Accept-Encoding", "gzip, deflate, br"}});
    CHECK(r.header("Content-Encoding") == "gzip");
    CHECK(r.header("Vary") == "Accept-Encoding");
    CHECK(r.header("ETag") == "W/\"v1\"");
    CHECK(r.body.size() < big_json.size() / 4);
    CHECK(r.header("Content-Length") == std::to_string(r.body.size()));
    CHECK(inflate_body(r.body, true) == big_json);
}

TEST_CASE("q-values pick the coding and q=0 refuses it", "[middleware][compression]") {
    App app = make_app();
    testing::Client c(app);
    auto d = c.get("/json", {{"Accept-Encoding", "gzip;q=0.2, deflate;q=0.9"}});
    CHECK(d.header("Content-Encoding") == "deflate");
    CHECK(inflate_body(d.body, false) == big_json);
    auto none = c.get("/json", {{"Accept-Encoding", "gzip;q=0, deflate;q=0"}});
    CHECK(none.header("Content-Encoding").empty());
    CHECK(none.body == big_json);
    auto star = c.get("/json", {{"Accept-Encoding", "*"}});
    CHECK(star.header("Content-Encoding") == "gzip");
    auto identity = c.get("/json", {{"Accept-Encoding", "identity"}});
    CHECK(identity.header("Content-Encoding").empty());
    CHECK(identity.header("Vary") == "Accept-Encoding");
    auto junk = c.get("/json", {{"Accept-Encoding", "gzip;q=abc"}});
    CHECK(junk.header("Content-Encoding").empty());
}

TEST_CASE("small, incompressible, already-encoded, no-transform and bodiless responses pass as they are", "[middleware][compression]") {
    App app = make_app();
    testing::Client c(app);
    const testing::Headers gzip = {{"Accept-Encoding", "gzip"}};
    auto small = c.get("/small", gzip);
    CHECK(small.header("Content-Encoding").empty());
    CHECK(small.header("Vary") == "Accept-Encoding");
    auto png = c.get("/png", gzip);
    CHECK(png.header("Content-Encoding").empty());
    CHECK(png.header("Vary").empty());
    CHECK(c.get("/encoded", gzip).header("Content-Encoding") == "br");
    CHECK(c.get("/no-transform", gzip).header("Content-Encoding").empty());
    CHECK(c.get("/empty", gzip).status == 204);
    auto head = c.head("/json", gzip);
    CHECK(head.header("Content-Encoding").empty());
    CHECK(head.header("Content-Length") == std::to_string(big_json.size()));
}

TEST_CASE("large bodies are compressed off the I/O thread with the same result", "[middleware][compression]") {
    middleware::CompressionOptions o;
    o.offload_above = 1000;
    App app = make_app(o);
    testing::Client c(app);
    auto r = c.get("/json", {{"Accept-Encoding", "gzip"}});
    CHECK(r.header("Content-Encoding") == "gzip");
    CHECK(inflate_body(r.body, true) == big_json);
}

TEST_CASE("Cache-Control no-transform is a directive matched in any case, not a substring", "[middleware][compression]") {
    App app = make_app();
    app.get("/upper", [](Request&, Response& res) { res.type("text").set("Cache-Control", "public, No-Transform").send(std::string(5000, 'x')); });
    app.get("/lookalike", [](Request&, Response& res) { res.type("text").set("Cache-Control", "x-no-transformer=1").send(std::string(5000, 'x')); });
    testing::Client c(app);
    CHECK(c.get("/upper", {{"Accept-Encoding", "gzip"}}).header("Content-Encoding").empty());
    CHECK(c.get("/lookalike", {{"Accept-Encoding", "gzip"}}).header("Content-Encoding") == "gzip");
}

namespace {
// Takes the blocking pool's one slot until `release` is raised.
Task<> hold_blocking_pool(spur::test::Flag* release) {
    auto wait = [release] { release->wait(); };
    co_await spur::offload(wait);
}
}  // namespace

TEST_CASE("a full blocking pool sends a large body uncompressed rather than a 503", "[middleware][compression]") {
    middleware::CompressionOptions o;
    o.offload_above = 1000;
    App app = make_app(o);
    spur::test::Flag release;
    int created = 0;
    app.post("/items", [&](Request&, Response& res) -> Task<> {
        auto ex = co_await boost::asio::this_coro::executor;
        auto& context = boost::asio::query(ex, boost::asio::execution::context);
        spur::set_blocking_threads(context, 1);
        spur::set_blocking_queue_limit(context, 1);
        boost::asio::co_spawn(ex, hold_blocking_pool(&release), boost::asio::detached);
        co_await boost::asio::post(ex, boost::asio::use_awaitable);  // the holder has its slot
        ++created;
        res.status(201).type("json").set("Location", "/items/1").send(big_json);
    });
    testing::Client c(app);
    auto r = c.post("/items", "", {{"Accept-Encoding", "gzip"}});
    release.raise();
    CHECK(r.status == 201);
    CHECK(created == 1);
    CHECK(r.header("Location") == "/items/1");
    CHECK(r.header("Content-Encoding").empty());
    CHECK(r.body == big_json);
}

TEST_CASE("error bodies of compressible type are compressed too", "[middleware][compression]") {
    middleware::CompressionOptions o;
    o.threshold = 10;
    App app = make_app(o);
    app.get("/fail", [](Request&, Response&) -> Task<> { throw HttpError(400, "bad", std::string(300, 'm')); co_return; });
    testing::Client c(app);
    auto r = c.get("/fail", {{"Accept-Encoding", "gzip"}});
    CHECK(r.status == 400);
    // The error is rendered after the middleware unwound, so it goes out uncompressed and intact.
    CHECK(r.json().at("error").at("code") == "bad");
}
