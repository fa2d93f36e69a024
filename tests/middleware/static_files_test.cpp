#include <spur/middleware/static_files.hpp>

#include <spur/app.hpp>
#include <spur/testing/client.hpp>

#include "support/blocking_hold.hpp"
#include "support/test_server.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace spur;
namespace fs = std::filesystem;

namespace {
// A served directory with a secret next to it, and symlinks pointing in and out.
struct Site {
    fs::path base = fs::temp_directory_path() / ("spur-static-" + std::to_string(::getpid()));
    fs::path root = base / "public";
    Site() {
        fs::remove_all(base);
        fs::create_directories(root / "css");
        fs::create_directories(root / "docs");
        write(root / "index.html", "<h1>home</h1>");
        write(root / "css" / "site.css", "body{}");
        write(root / "docs" / "index.html", "<h1>docs</h1>");
        write(root / "data.bin", big());
        write(root / ".env", "SECRET=1");
        write(root / "space name.txt", "spaced");
        write(base / "secret.txt", "TOP SECRET");
        fs::create_symlink(base / "secret.txt", root / "escape.txt");
        fs::create_symlink(root / "css" / "site.css", root / "alias.css");
    }
    ~Site() { fs::remove_all(base); }
    static void write(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }
    static std::string big() {
        std::string s;
        for (int i = 0; i < 300000; ++i) s.push_back(static_cast<char>('a' + i % 26));
        return s;
    }
};

App make_app(const Site& site, middleware::StaticOptions o = {}) {
    App app;
    app.get("/static/*path", middleware::static_files(site.root, o));
    return app;
}
}  // namespace

TEST_CASE("files are served with type, length, validators and caching headers", "[middleware][static]") {
    Site site;
    middleware::StaticOptions o;
    o.max_age = std::chrono::hours(1);
    o.immutable = true;
    App app = make_app(site, o);
    testing::Client c(app);
    auto r = c.get("/static/css/site.css");
    CHECK(r.status == 200);
    CHECK(r.body == "body{}");
    CHECK(r.header("Content-Type") == "text/css; charset=utf-8");
    CHECK(r.header("Content-Length") == "6");
    CHECK(r.header("Cache-Control") == "public, max-age=3600, immutable");
    CHECK(r.header("Accept-Ranges") == "bytes");
    CHECK(r.header("ETag").substr(0, 3) == "W/\"");
    CHECK(r.header("Last-Modified").ends_with("GMT"));
    CHECK(c.get("/static/space%20name.txt").body == "spaced");
    CHECK(c.get("/static/alias.css").body == "body{}");  // a symlink that stays inside is fine
}

TEST_CASE("directories serve their index and redirect to the slash form", "[middleware][static]") {
    Site site;
    App app = make_app(site);
    testing::Client c(app);
    CHECK(c.get("/static/").body == "<h1>home</h1>");
    CHECK(c.get("/static").body == "<h1>home</h1>");
    auto redirect = c.get("/static/docs?x=1");
    CHECK(redirect.status == 301);
    CHECK(redirect.header("Location") == "/static/docs/?x=1");
    CHECK(c.get("/static/docs/").body == "<h1>docs</h1>");
    CHECK(c.get("/static/nope.txt").status == 404);
}

TEST_CASE("traversal attempts never leave the root", "[middleware][static]") {
    Site site;
    App app = make_app(site);
    testing::Client c(app);
    for (const char* path : {"/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/%2E%2E%2Fsecret.txt",
                             "/static/css/../../secret.txt", "/static/css/%2e%2e/%2e%2e/secret.txt",
                             "/static/escape.txt", "/static/.env", "/static/%2eenv", "/static/css/./../../secret.txt"}) {
        INFO(path);
        auto r = c.get(path);
        CHECK(r.status == 404);
        CHECK(r.body.find("SECRET") == std::string::npos);
    }
    for (const char* path : {"/static/..%5csecret.txt", "/static/%5c..%5csecret.txt", "/static/secret%00.txt"}) {
        INFO(path);
        CHECK(c.get(path).status == 400);
    }
}

TEST_CASE("traversal over a real socket is refused too", "[middleware][static][server][concurrency]") {
    Site site;
    App app = make_app(site);
    test::TestServer srv(app);
    for (const char* target : {"/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/..%2fsecret.txt",
                               "/static/escape.txt"}) {
        INFO(target);
        auto r = test::round_trip(srv.port(), std::string("GET ") + target + " HTTP/1.1\r\nHost: t\r\n\r\n");
        REQUIRE(r);
        CHECK(r->result_int() == 404);
        CHECK(r->body().find("SECRET") == std::string::npos);
    }
}

TEST_CASE("If-None-Match and If-Modified-Since answer 304", "[middleware][static]") {
    Site site;
    App app = make_app(site);
    testing::Client c(app);
    auto first = c.get("/static/css/site.css");
    std::string etag(first.header("ETag"));
    std::string modified(first.header("Last-Modified"));
    auto by_etag = c.get("/static/css/site.css", {{"If-None-Match", "\"other\", " + etag}});
    CHECK(by_etag.status == 304);
    CHECK(by_etag.body.empty());
    CHECK(by_etag.header("ETag") == etag);
    CHECK(c.get("/static/css/site.css", {{"If-None-Match", "*"}}).status == 304);
    CHECK(c.get("/static/css/site.css", {{"If-Modified-Since", modified}}).status == 304);
    CHECK(c.get("/static/css/site.css", {{"If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"}}).status == 200);
    CHECK(c.get("/static/css/site.css", {{"If-Modified-Since", "garbage"}}).status == 200);
    // If-None-Match wins over If-Modified-Since
    CHECK(c.get("/static/css/site.css", {{"If-None-Match", "\"other\""}, {"If-Modified-Since", modified}}).status == 200);
}

TEST_CASE("single byte ranges answer 206, unsatisfiable ones 416", "[middleware][static]") {
    Site site;
    App app = make_app(site);
    testing::Client c(app);
    const std::string all = Site::big();
    auto r = c.get("/static/data.bin", {{"Range", "bytes=10-19"}});
    CHECK(r.status == 206);
    CHECK(r.body == all.substr(10, 10));
    CHECK(r.header("Content-Range") == "bytes 10-19/300000");
    CHECK(r.header("Content-Length") == "10");
    auto suffix = c.get("/static/data.bin", {{"Range", "bytes=-5"}});
    CHECK(suffix.body == all.substr(all.size() - 5));
    auto open = c.get("/static/data.bin", {{"Range", "bytes=299990-"}});
    CHECK(open.body == all.substr(299990));
    auto clipped = c.get("/static/data.bin", {{"Range", "bytes=299990-999999"}});
    CHECK(clipped.header("Content-Range") == "bytes 299990-299999/300000");
    auto bad = c.get("/static/data.bin", {{"Range", "bytes=400000-"}});
    CHECK(bad.status == 416);
    CHECK(bad.header("Content-Range") == "bytes */300000");
    auto multi = c.get("/static/data.bin", {{"Range", "bytes=0-1,5-6"}});
    CHECK(multi.status == 200);
    CHECK(multi.body.size() == all.size());
    auto stale = c.get("/static/data.bin", {{"Range", "bytes=0-1"}, {"If-Range", "\"old\""}});
    CHECK(stale.status == 200);
}

TEST_CASE("HEAD sends the headers only and a large file streams whole over the wire", "[middleware][static][server][concurrency]") {
    Site site;
    App app = make_app(site);
    test::TestServer srv(app);
    test::RawConnection conn(srv.port());
    conn.send("HEAD /static/data.bin HTTP/1.1\r\nHost: t\r\n\r\nGET /static/data.bin HTTP/1.1\r\nHost: t\r\n\r\n");
    auto head = conn.read_response(true);
    REQUIRE(head);
    CHECK((*head)["Content-Length"] == "300000");
    auto get = conn.read_response();
    REQUIRE(get);
    CHECK(get->body() == Site::big());
    CHECK((*get)["Content-Type"] == "application/octet-stream");
}

// Issue #31, finding 4: file reads went through spur::offload's queue, which password hashing
// shares; 200 downloads made logins fail with 503, and a full queue cut downloads off.
TEST_CASE("files are served while the blocking pool's queue is full", "[middleware][static][server][concurrency]") {
    Site site;
    App app = make_app(site);
    test::BlockingHold hold;
    hold.route(app);
    auto options = test::test_options();
    options.max_blocking_queue = 1;
    test::TestServer srv(app, options);
    test::RawConnection holder(srv.port());
    holder.send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(hold.wait_held());
    auto r = test::round_trip(srv.port(), "GET /static/data.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    REQUIRE(r);
    CHECK(r->result_int() == 200);  // before: 503 overloaded
    CHECK(r->body() == Site::big());
    hold.release();
    auto held = holder.read_response();
    REQUIRE(held);
    CHECK(held->body() == "released");
}

TEST_CASE("a missing root is a setup error", "[middleware][static]") {
    CHECK_THROWS_AS(middleware::static_files("/definitely/not/here"), std::invalid_argument);
    CHECK(middleware::mime_type("x.WOFF2") == "font/woff2");
    CHECK(middleware::mime_type("Makefile") == "application/octet-stream");
}

TEST_CASE("precompressed: the .gz sibling is served to clients that take gzip, the file to the others", "[middleware][static]") {
    Site site;
    Site::write(site.root / "css" / "site.css.gz", "GZIPPED-BYTES");  // the bytes are passed through as they are
    Site::write(site.base / "outside.css", "x");
    fs::create_symlink(site.base / "outside.css", site.root / "css" / "linked.css");
    Site::write(site.base / "outside.css.gz", "SECRET-GZ");
    fs::create_symlink(site.base / "outside.css.gz", site.root / "css" / "plain.css.gz");
    Site::write(site.root / "css" / "plain.css", "plain{}");
    App app;
    middleware::StaticOptions o;
    o.precompressed = true;
    app.get("/s/*path", middleware::static_files(site.root, o));
    testing::Client client(app);

    auto gz = client.get("/s/css/site.css", {{"Accept-Encoding", "br, gzip;q=0.8"}});
    REQUIRE(gz.status == 200);
    CHECK(gz.body == "GZIPPED-BYTES");
    CHECK(gz.header("Content-Encoding") == "gzip");
    CHECK(gz.header("Content-Type") == "text/css; charset=utf-8");
    CHECK(gz.header("Vary").find("Accept-Encoding") != std::string_view::npos);
    CHECK(gz.header("Accept-Ranges").empty());

    auto plain = client.get("/s/css/site.css", {{"Accept-Encoding", "gzip;q=0, br"}});
    CHECK(plain.body == "body{}");
    CHECK(plain.header("Content-Encoding").empty());
    CHECK(plain.header("Vary").find("Accept-Encoding") != std::string_view::npos);
    CHECK(gz.header("ETag") != plain.header("ETag"));
    CHECK(client.get("/s/css/site.css").body == "body{}");
    // A range is a range of the file itself.
    auto range = client.get("/s/css/site.css", {{"Accept-Encoding", "gzip"}, {"Range", "bytes=0-3"}});
    CHECK(range.status == 206);
    CHECK(range.body == "body");
    // A .gz sibling that leads out of the root is not served.
    CHECK(client.get("/s/css/plain.css", {{"Accept-Encoding", "gzip"}}).body == "plain{}");

    middleware::StaticOptions off;
    App app2;
    app2.get("/s/*path", middleware::static_files(site.root, off));
    testing::Client client2(app2);
    CHECK(client2.get("/s/css/site.css", {{"Accept-Encoding", "gzip"}}).body == "body{}");
}
