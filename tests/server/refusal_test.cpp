// Requests the server refuses at the door (malformed or oversized header, framing it does
// not accept) pass the app's one error boundary: global middleware, on_error, finish hooks.
#include <spur/app.hpp>

#include "support/test_server.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <mutex>
#include <vector>

using namespace spur;
using spur::test::RawConnection;
using spur::test::TestServer;

namespace {
struct Seen {
    std::mutex mutex;
    std::vector<std::string> lines;  // "METHOD PATH STATUS"

    void add(std::string line) {
        std::lock_guard lock(mutex);
        lines.push_back(std::move(line));
    }
    // Waits for the finish hook, which runs after the client already has its answer.
    bool has(const std::string& line) {
        return spur::test::eventually([&] {
            std::lock_guard lock(mutex);
            return std::find(lines.begin(), lines.end(), line) != lines.end();
        });
    }
};

void observe(App& app, Seen& seen) {
    app.use([&seen](Request& req, Response& res, Next next) -> Task<> {
        res.on_finish([&seen, &req](Response& r) {
            seen.add(std::string(req.method().empty() ? "-" : req.method()) + " " +
                     std::string(req.target().empty() ? "-" : req.path()) + " " + std::to_string(r.status()));
        });
        co_await next();
    });
    app.on_error([](Request&, Response& res, const HttpError& e) -> Task<> {
        res.type("text").send("custom " + std::to_string(e.status()) + " " + e.code());
        co_return;
    });
    app.post("/upload", [](Request& req, Response& res) { res.send(std::to_string(req.body().size())); }).body_limit(10);
}
}  // namespace

TEST_CASE("wire refusals pass on_error and the finish hooks - 431, 414, 400, 417, 501", "[server][errors][concurrency]") {
    App app;
    Seen seen;
    observe(app, seen);
    TestServer srv(app);

    auto big_header = spur::test::round_trip(
        srv.port(), "GET /x HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
    REQUIRE(big_header);
    CHECK(big_header->result_int() == 431);
    CHECK(big_header->body() == "custom 431 headers_too_large");
    CHECK((*big_header)["Connection"] == "close");
    CHECK(seen.has("GET /x 431"));  // the request line was sound: the log can say what was asked

    auto long_line = spur::test::round_trip(srv.port(), "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(long_line);
    CHECK(long_line->result_int() == 414);
    CHECK(seen.has("- - 414"));  // nothing of the request line is trusted

    auto smuggled = spur::test::round_trip(
        srv.port(), "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    REQUIRE(smuggled);
    CHECK(smuggled->result_int() == 400);
    CHECK(smuggled->body() == "custom 400 bad_request");
    CHECK(seen.has("POST /upload 400"));

    auto bare_lf = spur::test::round_trip(srv.port(), "GET /y HTTP/1.1\nHost: t\r\n\r\n");
    REQUIRE(bare_lf);
    CHECK(bare_lf->result_int() == 400);
    CHECK(seen.has("- - 400"));

    auto expectation = spur::test::round_trip(
        srv.port(), "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nExpect: magic\r\n\r\nx");
    REQUIRE(expectation);
    CHECK(expectation->result_int() == 417);
    CHECK(seen.has("POST /upload 417"));

    auto gzip = spur::test::round_trip(
        srv.port(), "POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
    REQUIRE(gzip);
    CHECK(gzip->result_int() == 501);
    CHECK(seen.has("POST /upload 501"));
}

TEST_CASE("a custom on_error renders a 413 from the body limit", "[server][errors][limits][concurrency]") {
    App app;
    Seen seen;
    observe(app, seen);
    TestServer srv(app);
    RawConnection c(srv.port());
    c.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n");
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->result_int() == 413);
    CHECK(r->body() == "custom 413 payload_too_large");
    CHECK(seen.has("POST /upload 413"));
}
