// The body stays on the wire until something asks for it (Request::read_body, or the
// route's handler): a request answered earlier is never read and gets no 100 Continue.
#include <spur/app.hpp>
#include <spur/contract/contract.hpp>

#include <boost/describe.hpp>

#include <spur/form_data.hpp>

#include "support/test_server.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <string>

namespace lazy_body_test {
struct Note {
    std::string text;
};
BOOST_DESCRIBE_STRUCT(Note, (), (text))

struct Upload {
    std::string title;
    spur::UploadedFile file;
};
BOOST_DESCRIBE_STRUCT(Upload, (), (title, file))

// The same guard as a handler's own extractor.
struct Caller {
    static Caller extract(spur::Request& req) {
        if (req.header("Authorization") != "Bearer ok") throw spur::HttpError(401, "unauthorized", "Sign in");
        return {};
    }
};
// An extractor that needs the body (a signature over it) reads it itself.
struct Signed {
    static spur::Task<Signed> extract(spur::Request& req) {
        co_await req.read_body();
        if (req.header("X-Signature") != "len=" + std::to_string(req.body().size()))
            throw spur::HttpError(401, "bad_signature", "The signature does not match the body");
        co_return Signed{};
    }
};
}  // namespace lazy_body_test

using namespace spur;
namespace lazy_body_test {
using spur::test::RawConnection;
using spur::test::TestServer;

namespace {
// A guard in the style of spur-app's: no Authorization, no entry.
Middleware require_auth() {
    return [](Request& req, Response& res, Next next) -> Task<> {
        if (req.header("Authorization") != "Bearer ok") {
            res.status(401).json({{"error", "unauthorized"}});
            co_return;
        }
        co_await next();
    };
}

void add_upload_route(App& app, std::atomic<int>& handled) {
    app.post("/upload", require_auth(), [&handled](Request& req, Response& res) {
           ++handled;
           res.send("got " + std::to_string(req.body().size()));
       })
        .body_limit(16 * 1024 * 1024);
}
}  // namespace

TEST_CASE("a guard that answers 401 gets no 100 Continue and the upload is never read", "[server][body][concurrency]") {
    App app;
    std::atomic<int> handled{0};
    add_upload_route(app, handled);
    TestServer srv(app);

    RawConnection c(srv.port());
    // 8 MiB declared, not one byte of it sent: the answer must come anyway.
    c.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 8388608\r\nExpect: 100-continue\r\n\r\n");
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->result_int() == 401);  // not 100: the first thing on the wire is the final answer
    CHECK((*r)["Connection"] == "close");  // the client may still send the body: not worth reading
    CHECK(c.wait_closed());
    CHECK(handled == 0);
}

TEST_CASE("a route that reads the body sends 100 Continue first, then answers", "[server][body][concurrency]") {
    App app;
    std::atomic<int> handled{0};
    add_upload_route(app, handled);
    TestServer srv(app);

    RawConnection c(srv.port());
    c.send("POST /upload HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ok\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    auto interim = c.read_response();
    REQUIRE(interim);
    CHECK(interim->result_int() == 100);
    c.send("hello");
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->result_int() == 200);
    CHECK(r->body() == "got 5");
    CHECK((*r)["Connection"] == "");  // kept alive
}

TEST_CASE("a body over the limit is 413 when something reads it - a guard still answers first", "[server][body][limits][concurrency]") {
    App app;
    std::atomic<int> handled{0};
    app.post("/small", require_auth(), [&handled](Request&, Response& res) {
           ++handled;
           res.send("ok");
       })
        .body_limit(10);

    TestServer srv(app);
    auto anonymous = spur::test::round_trip(srv.port(), "POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n");
    REQUIRE(anonymous);
    CHECK(anonymous->result_int() == 401);

    RawConnection c(srv.port());
    c.send("POST /small HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ok\r\nContent-Length: 11\r\n\r\n");
    auto r = c.read_response();  // before a byte of the body: Content-Length already says too much
    REQUIRE(r);
    CHECK(r->result_int() == 413);
    CHECK((*r)["Connection"] == "close");
    CHECK(handled == 0);
}

TEST_CASE("middleware can read the body itself, and the handler sees it", "[server][body][concurrency]") {
    App app;
    app.use([](Request& req, Response& res, Next next) -> Task<> {
        co_await req.read_body();
        res.set("X-Seen", std::to_string(req.body().size()));
        co_await next();
    });
    app.post("/echo", [](Request& req, Response& res) { res.send(req.body()); });
    TestServer srv(app);
    auto r = spur::test::round_trip(
        srv.port(), "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
    REQUIRE(r);
    CHECK(r->body() == "abcde");
    CHECK((*r)["X-Seen"] == "5");
}

TEST_CASE("a handler's own extractor answers 401 before the body is read - no 100 Continue", "[server][body][contract][concurrency]") {
    App app;
    std::atomic<int> handled{0};
    app.post("/notes", [&handled](Request&, Response& res, Caller, Body<Note> note) {
           ++handled;
           res.send(note->text);
       })
        .body_limit(16 * 1024 * 1024);
    TestServer srv(app);

    RawConnection c(srv.port());
    c.send("POST /notes HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 8388608\r\nExpect: 100-continue\r\n\r\n");
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->result_int() == 401);
    CHECK(c.wait_closed());
    CHECK(handled == 0);

    // Signed in: 100 Continue, then the body is read and validated as before.
    RawConnection ok(srv.port());
    ok.send("POST /notes HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ok\r\nContent-Type: application/json\r\nContent-Length: 12\r\nExpect: 100-continue\r\n\r\n");
    auto interim = ok.read_response();
    REQUIRE(interim);
    CHECK(interim->result_int() == 100);
    ok.send(R"({"text":"a"})");
    auto done = ok.read_response();
    REQUIRE(done);
    CHECK(done->result_int() == 200);
    CHECK(done->body() == "a");
    CHECK(handled == 1);
}

TEST_CASE("an extractor that needs the body awaits read_body - the handler finds it read", "[server][body][contract][concurrency]") {
    App app;
    app.post("/hook", [](Request& req, Response& res, Signed, Body<Note> note) { res.send(note->text + " " + std::to_string(req.body().size())); });
    TestServer srv(app);

    RawConnection c(srv.port());
    c.send("POST /hook HTTP/1.1\r\nHost: t\r\nX-Signature: len=12\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n"
           R"({"text":"a"})");
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->result_int() == 200);
    CHECK(r->body() == "a 12");

    c.send("POST /hook HTTP/1.1\r\nHost: t\r\nX-Signature: len=0\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n"
           R"({"text":"a"})");
    auto forged = c.read_response();
    REQUIRE(forged);
    CHECK(forged->result_int() == 401);
}

TEST_CASE("Form<T> on a stream_body route streams a large file to disk as it arrives - an urlencoded form is read whole", "[server][body][contract][concurrency]") {
    App app;
    app.post("/upload", [](Request&, Response& res, Form<Upload> up) {
           std::uintmax_t on_disk = up->file.on_disk() ? std::filesystem::file_size(up->file.path) : 0;
           res.send(up->title + " " + std::to_string(up->file.size) + " " + std::to_string(on_disk));
       })
        .stream_body()
        .body_limit(1 << 20);
    TestServer srv(app);

    const std::string bytes(200 * 1024, 'x');  // past the 64 KiB kept in memory
    const std::string body = "--B\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nbig\r\n"
                             "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.bin\"\r\n\r\n" +
                             bytes + "\r\n--B--\r\n";
    RawConnection c(srv.port());
    c.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body);
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->result_int() == 200);
    CHECK(r->body() == "big 204800 204800");

    c.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 9\r\n\r\ntitle=abc");
    auto form = c.read_response();
    REQUIRE(form);
    CHECK(form->result_int() == 422);  // read, and the file is missing

    c.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
    auto json = c.read_response();
    REQUIRE(json);
    CHECK(json->result_int() == 415);
}

namespace {
// Open descriptors of this process that are upload spool files.
int open_spools() {
    int n = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
        std::error_code ec;
        auto target = std::filesystem::read_symlink(entry.path(), ec);
        if (!ec && target.filename().string().rfind("spur-upload-", 0) == 0) ++n;
    }
    return n;
}

std::string many_files(int files, std::size_t bytes) {
    std::string body = "--B\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nmany\r\n";
    for (int i = 0; i < files; ++i)
        body += "--B\r\nContent-Disposition: form-data; name=\"" + std::string(i == 0 ? "file" : "more") + "\"; filename=\"f" +
                std::to_string(i) + "\"\r\n\r\n" + std::string(bytes, 'y') + "\r\n";
    return body + "--B--\r\n";
}

struct Many {
    std::string title;
    spur::UploadedFile file;
    std::vector<spur::UploadedFile> more;
};
BOOST_DESCRIBE_STRUCT(Many, (), (title, file, more))
}  // namespace

TEST_CASE("a streamed form keeps no spool file open once its part ended - one at most while it arrives", "[server][body][contract][concurrency]") {
    App app;
    app.post("/many", [](Request&, Response& res, Form<Many> m) {
           int on_disk = m->file.on_disk() ? 1 : 0;
           for (const auto& f : m->more) on_disk += f.on_disk() ? 1 : 0;
           res.send(std::to_string(on_disk) + " on disk, " + std::to_string(open_spools()) + " open");
       })
        .stream_body()
        .body_limit(4 << 20);
    TestServer srv(app);
    const std::string body = many_files(8, 70 * 1024);  // each past the 64 KiB kept in memory
    RawConnection c(srv.port());
    c.send("POST /many HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body);
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->result_int() == 200);
    CHECK(r->body() == "8 on disk, 0 open");
}

TEST_CASE("what a streamed form keeps in memory counts against the client's share of the body budget - 503 past it", "[server][body][contract][limits][concurrency]") {
    App app;
    app.post("/many", [](Request&, Response& res, Form<Many> m) { res.send(std::to_string(m->more.size())); })
        .stream_body()
        .body_limit(4 << 20);
    auto options = spur::test::test_options();
    options.max_buffered_body_bytes_per_ip = 256 * 1024;
    TestServer srv(app, options);
    // Files under 64 KiB stay in memory: 8 of 60 KiB pass the 256 KiB share.
    const std::string body = many_files(8, 60 * 1024);
    RawConnection c(srv.port());
    c.send("POST /many HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body);
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->result_int() == 503);
    CHECK((*r)["Retry-After"] == "1");

    // The share is given back with the request: a small form goes through afterwards.
    const std::string small = many_files(2, 10 * 1024);
    RawConnection again(srv.port());
    again.send("POST /many HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: " +
               std::to_string(small.size()) + "\r\n\r\n" + small);
    auto ok = again.read_response();
    REQUIRE(ok);
    CHECK(ok->result_int() == 200);
    CHECK(ok->body() == "1");
}

TEST_CASE("an empty streamed body without a Content-Type is an empty form - as on a buffered route", "[server][body][contract][concurrency]") {
    App app;
    app.post("/many", [](Request&, Response& res, Form<Many>) { res.send("ok"); }).stream_body();
    TestServer srv(app);
    RawConnection c(srv.port());
    c.send("POST /many HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->result_int() == 422);  // its fields are required
    c.send("POST /many HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    auto text = c.read_response();
    REQUIRE(text);
    CHECK(text->result_int() == 415);
}

}  // namespace lazy_body_test
