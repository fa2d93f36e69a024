#include <spur/middleware/json_body.hpp>
#include <spur/middleware/multipart.hpp>
#include <spur/middleware/urlencoded.hpp>

#include <spur/app.hpp>
#include <spur/testing/client.hpp>

#include "support/test_server.hpp"

#include <boost/json/parse.hpp>

#include "support/error_body.hpp"
#include "support/quiet_app.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using namespace spur;

namespace {

using spur::test::quiet_app;
std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Builds a multipart body; each part is {name, filename (empty: a field), content}.
struct Part {
    std::string name, filename, content;
};
std::string multipart_body(const std::string& boundary, const std::vector<Part>& parts) {
    std::string b;
    for (const auto& p : parts) {
        b += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + p.name + "\"";
        if (!p.filename.empty()) b += "; filename=\"" + p.filename + "\"\r\nContent-Type: application/octet-stream";
        b += "\r\n\r\n" + p.content + "\r\n";
    }
    return b + "--" + boundary + "--\r\n";
}
const std::string mp_type = "multipart/form-data; boundary=XyZ";
}  // namespace

TEST_CASE("json_body accepts JSON and caches it for the handler", "[middleware][body]") {
    App app;
    app.post("/items", middleware::json_body(), [](Request& req, Response& res) {
        res.status(201).json({{"name", req.json().at("name")}});
    });
    testing::Client c(app);
    auto r = c.post_json("/items", {{"name", "pen"}});
    CHECK(r.status == 201);
    CHECK(r.json().at("name") == "pen");
    CHECK(c.post("/items", R"({"name":"x"})", {{"Content-Type", "application/vnd.api+json; charset=utf-8"}}).status == 201);
}

TEST_CASE("json_body answers 415, 413 and 400 with the error body", "[middleware][body]") {
    App app;
    middleware::JsonBodyOptions o;
    o.limit = 64;
    app.post("/items", middleware::json_body(o), [](Request&, Response& res) { res.status(201).end(); });
    testing::Client c(app);
    auto wrong = c.post("/items", R"({"a":1})", {{"Content-Type", "text/plain"}});
    CHECK(wrong.status == 415);
    CHECK(wrong.json().at("error").at("code") == "unsupported_media_type");
    CHECK(c.post("/items", R"({"a":1})").status == 415);  // no type at all
    auto big = c.post_json("/items", {{"a", std::string(100, 'x')}});
    CHECK(big.status == 413);
    auto bad = c.post("/items", "{\"a\":", {{"Content-Type", "application/json"}});
    CHECK(bad.status == 400);
    CHECK(spur::test::without_request_id(bad.json()) == boost::json::parse(
                            R"({"success":false,"error":{"code":"invalid_json","message":"Request body is not valid JSON"}})"));
    CHECK(c.post("/items", "").status == 201);  // no body, nothing to check
}

TEST_CASE("urlencoded parses fields, repeated keys and + as space", "[middleware][body]") {
    App app;
    app.post("/form", middleware::urlencoded(), [](Request& req, Response& res) {
        const FormData* f = form_data(req);
        REQUIRE(f);
        res.json({{"name", f->field("name").value_or("")}, {"tags", f->fields_all("tag").size()}});
    });
    testing::Client c(app);
    auto r = c.post("/form", "name=Ada+Lovelace%21&tag=a&tag=b", {{"Content-Type", "application/x-www-form-urlencoded"}});
    CHECK(r.json() == boost::json::parse(R"({"name":"Ada Lovelace!","tags":2})"));
}

TEST_CASE("urlencoded limits the field count and skips other types", "[middleware][body]") {
    App app;
    middleware::UrlencodedOptions o;
    o.max_fields = 10;
    app.post("/form", middleware::urlencoded(o), [](Request& req, Response& res) { res.send(form_data(req) ? "form" : "none"); });
    testing::Client c(app);
    std::string many;
    for (int i = 0; i < 20; ++i) many += "f" + std::to_string(i) + "=1&";
    CHECK(c.post("/form", many, {{"Content-Type", "application/x-www-form-urlencoded"}}).status == 413);
    CHECK(c.post("/form", "{}", {{"Content-Type", "application/json"}}).body == "none");
}

TEST_CASE("multipart reads fields and files - small files stay in memory, large ones go to disk", "[middleware][body]") {
    middleware::MultipartOptions o;
    o.memory_threshold = 1000;
    std::filesystem::path spooled;
    App app;
    app.post("/upload", middleware::multipart(o), [&](Request& req, Response& res) {
        const FormData* f = form_data(req);
        REQUIRE(f);
        const UploadedFile* small = f->file("small");
        const UploadedFile* large = f->file("large");
        REQUIRE(small);
        REQUIRE(large);
        CHECK_FALSE(small->on_disk());
        CHECK(small->data == "tiny");
        CHECK(small->filename == "a.txt");
        REQUIRE(large->on_disk());
        CHECK(large->size == 5000);
        CHECK(slurp(large->path) == std::string(2500, 'L') + std::string(2500, 'M'));
        CHECK((std::filesystem::status(large->path).permissions() & std::filesystem::perms::others_read) ==
              std::filesystem::perms::none);
        spooled = large->path;
        res.json({{"title", f->field("title").value_or("")}});
    });
    testing::Client c(app);
    auto body = multipart_body("XyZ", {{"title", "", "Hello \"world\""},
                                       {"small", "a.txt", "tiny"},
                                       {"large", "b.bin", std::string(2500, 'L') + std::string(2500, 'M')}});
    auto r = c.post("/upload", body, {{"Content-Type", mp_type}});
    CHECK(r.status == 200);
    CHECK(r.json().at("title") == "Hello \"world\"");
    REQUIRE_FALSE(spooled.empty());
    CHECK_FALSE(std::filesystem::exists(spooled));  // removed with the request
}

TEST_CASE("multipart limits answer 413 and leave no temp files behind", "[middleware][body]") {
    auto dir = std::filesystem::temp_directory_path() / "spur-mp-test";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    middleware::MultipartOptions o;
    o.memory_threshold = 100;
    o.max_file_bytes = 1000;
    o.max_field_bytes = 50;
    o.max_parts = 3;
    o.temp_dir = dir;
    App app = quiet_app();
    app.post("/upload", middleware::multipart(o), [](Request&, Response& res) { res.send("ok"); });
    testing::Client c(app);
    const testing::Headers h = {{"Content-Type", mp_type}};
    CHECK(c.post("/upload", multipart_body("XyZ", {{"f", "x.bin", std::string(1001, 'x')}}), h).status == 413);
    CHECK(c.post("/upload", multipart_body("XyZ", {{"field", "", std::string(51, 'x')}}), h).status == 413);
    CHECK(c.post("/upload", multipart_body("XyZ", {{"a", "", "1"}, {"b", "", "2"}, {"c", "", "3"}, {"d", "", "4"}}), h).status == 413);
    CHECK(c.post("/upload", multipart_body("XyZ", {{"f", "x.bin", std::string(1000, 'x')}}), h).status == 200);
    CHECK(std::filesystem::is_empty(dir));
    std::filesystem::remove_all(dir);
}

TEST_CASE("malformed multipart bodies answer 400", "[middleware][body]") {
    App app = quiet_app();
    app.post("/upload", middleware::multipart(), [](Request&, Response& res) { res.send("ok"); });
    testing::Client c(app);
    const testing::Headers h = {{"Content-Type", mp_type}};
    CHECK(c.post("/upload", "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end", h).status == 400);
    CHECK(c.post("/upload", "--XyZ\r\nX-Nothing: here\r\n\r\nv\r\n--XyZ--", h).status == 400);
    CHECK(c.post("/upload", "--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--XyZ--", h).status == 400);
    CHECK(c.post("/upload", "--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename*=UTF-8''%zz\r\n\r\nv\r\n--XyZ--", h).status == 200);
    CHECK(c.post("/upload", "x", {{"Content-Type", "multipart/form-data"}}).status == 400);  // no boundary
    CHECK(c.post("/upload", multipart_body("XyZ", {{"a", "", "1"}}), {{"Content-Type", "text/plain"}}).body == "ok");
}

TEST_CASE("a streamed upload bigger than the server's default body limit arrives on disk", "[middleware][body][server][concurrency]") {
    middleware::MultipartOptions o;
    o.memory_threshold = 4096;
    o.max_file_bytes = 4 * 1024 * 1024;
    std::size_t received = 0;
    bool matches = false;
    App app;
    app.post("/upload", middleware::multipart(o), [&](Request& req, Response& res) {
        const UploadedFile* f = form_data(req)->file("blob");
        received = f->size;
        std::string content = slurp(f->path);
        matches = content.size() == 3 * 1024 * 1024 && content.find_first_not_of('z') == std::string::npos;
        res.status(201).end();
    }).stream_body().body_limit(8 * 1024 * 1024);
    auto options = test::test_options();
    options.max_body_bytes = 1024 * 1024;  // the route's own limit applies instead
    test::TestServer srv(app, options);
    auto body = multipart_body("XyZ", {{"blob", "big.bin", std::string(3 * 1024 * 1024, 'z')}});
    test::RawConnection conn(srv.port());
    conn.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Type: " + mp_type +
              "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n");
    conn.send(body);
    auto r = conn.read_response();
    REQUIRE(r);
    CHECK(r->result_int() == 201);
    CHECK(received == 3 * 1024 * 1024);
    CHECK(matches);
    CHECK(r->keep_alive());
}

TEST_CASE("a streamed body past the route limit is 413 - a small unread body is dropped, a large one closes the connection", "[middleware][body][server][concurrency]") {
    App app;
    app.post("/upload", middleware::multipart(), [](Request&, Response& res) { res.send("ok"); })
        .stream_body()
        .body_limit(10000);
    app.post("/ignore", [](Request&, Response& res) { res.status(401).end(); }).stream_body();
    test::TestServer srv(app);
    const std::string chunked_head = "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Type: " + mp_type +
                                     "\r\nTransfer-Encoding: chunked\r\n\r\n";
    auto big = multipart_body("XyZ", {{"blob", "b.bin", std::string(20000, 'q')}});
    test::RawConnection c(srv.port());
    c.try_send(chunked_head + "4e55\r\n" + big.substr(0, 20053) + "\r\n");
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->result_int() == 413);

    // A small unread body is read and dropped after the answer, as Node does, so the
    // connection stays usable: the pipelined request behind it is answered.
    test::RawConnection i(srv.port());
    i.send("POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x') +
           "POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    auto first = i.read_response();
    REQUIRE(first);
    CHECK(first->result_int() == 401);
    CHECK((*first)["Connection"] == "");
    auto second = i.read_response();
    REQUIRE(second);
    CHECK(second->result_int() == 401);

    // A large one is not worth reading: the answer closes the connection.
    test::RawConnection big_body(srv.port());
    big_body.try_send("POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n" + std::string(1000, 'x'));
    auto refused = big_body.read_response();
    REQUIRE(refused);
    CHECK(refused->result_int() == 401);
    CHECK((*refused)["Connection"] == "close");
    CHECK(big_body.wait_closed());
}
