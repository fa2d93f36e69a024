#include <spur/middleware/access_log.hpp>

#include <spur/app.hpp>
#include <spur/middleware/request_id.hpp>
#include <spur/testing/client.hpp>

#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <regex>

#include "support/text_shape.hpp"
#include "support/quiet_app.hpp"

using namespace spur;

namespace {

using spur::test::quiet_app;
struct Lines {
    std::vector<std::string> lines;
    middleware::AccessLogOptions options(middleware::AccessLogFormat f) {
        middleware::AccessLogOptions o;
        o.format = f;
        o.sink = [this](std::string_view l) { lines.emplace_back(l); };
        return o;
    }
};
}  // namespace

TEST_CASE("dev format logs method, target, status, bytes, duration and id", "[middleware][access_log]") {
    Lines log;
    App app;
    app.use(middleware::access_log(log.options(middleware::AccessLogFormat::dev)));
    app.use(middleware::request_id());
    app.get("/hello", [](Request&, Response& res) { res.send("12345"); });
    testing::Client c(app);
    c.get("/hello?x=1", {{"X-Request-Id", "req-1"}});
    REQUIRE(log.lines.size() == 1);
    CHECK(spur::test::digits_to_9(log.lines[0]) == "GET /hello?x=9 9 9B 9.9ms id=req-9");
    CHECK(log.lines[0].rfind("GET /hello?x=1 200 5B ", 0) == 0);
    // Milliseconds with exactly three decimals, then the id, and nothing after it.
    CHECK(std::regex_match(log.lines[0], std::regex(R"(GET /hello\?x=1 200 5B [0-9]+\.[0-9]{3}ms id=req-1)")));
}

TEST_CASE("the logged status is the final one, after error handling", "[middleware][access_log]") {
    Lines log;
    App app = quiet_app();
    app.use(middleware::access_log(log.options(middleware::AccessLogFormat::dev)));
    app.get("/boom", [](Request&, Response&) { throw std::runtime_error("x"); });
    app.get("/gone", [](Request&, Response&) { throw HttpError(410, "gone", "Gone"); });
    testing::Client c(app);
    c.get("/boom");
    c.get("/gone");
    c.get("/missing");
    REQUIRE(log.lines.size() == 3);
    CHECK(log.lines[0].rfind("GET /boom 500 ", 0) == 0);
    CHECK(log.lines[1].rfind("GET /gone 410 ", 0) == 0);
    CHECK(log.lines[2].rfind("GET /missing 404 ", 0) == 0);
}

TEST_CASE("combined format quotes hostile header values safely", "[middleware][access_log]") {
    Lines log;
    App app;
    app.use(middleware::access_log(log.options(middleware::AccessLogFormat::combined)));
    app.get("/", [](Request&, Response& res) { res.send("ok"); });
    testing::Client c(app);
    c.get("/", {{"User-Agent", "evil\" 200 9999 \"x"}, {"Referer", "https://r.example/"}});
    REQUIRE(log.lines.size() == 1);
    const auto& l = log.lines[0];
    REQUIRE(l.find("] ") != std::string::npos);
    auto time = l.substr(0, l.find("] ") + 2);
    auto rest = l.substr(l.find("] ") + 2);
    CHECK(time.rfind("127.0.0.1 - - [", 0) == 0);
    CHECK(time.ends_with(" +0000] "));
    CHECK(spur::test::digits_to_9(rest) == R"("GET / HTTP/9.9" 9 9 "https://r.example/" "evil\" 9 9 \"x" 9.9 - -)");
}

TEST_CASE("json format is one parseable object per line", "[middleware][access_log]") {
    Lines log;
    App app;
    app.use(middleware::request_id());
    app.use(middleware::access_log(log.options(middleware::AccessLogFormat::json)));
    app.post("/items", [](Request&, Response& res) { res.status(201).json({{"id", 1}}); });
    testing::Client c(app);
    c.post("/items", "{}", {{"X-Request-Id", "abc"}, {"User-Agent", "tester \"q\""}});
    REQUIRE(log.lines.size() == 1);
    auto v = boost::json::parse(log.lines[0]).as_object();
    CHECK(v.at("method") == "POST");
    CHECK(v.at("path") == "/items");
    CHECK(v.at("status") == 201);
    CHECK(v.at("bytes") == 8);
    CHECK(v.at("request_id") == "abc");
    CHECK(v.at("user_agent") == "tester \"q\"");
    CHECK(v.at("duration_ms").is_double());
}

TEST_CASE("json format stays valid UTF-8 when the path or User-Agent holds invalid bytes", "[middleware][access_log]") {
    Lines log;
    App app = quiet_app();
    app.use(middleware::access_log(log.options(middleware::AccessLogFormat::json)));
    app.get("/*rest", [](Request&, Response& res) { res.send("ok"); });
    testing::Client c(app);
    c.get("/caf\xE9", {{"User-Agent", "bot\xFF\xFE"}});
    REQUIRE(log.lines.size() == 1);
    boost::system::error_code ec;
    auto v = boost::json::parse(log.lines[0], ec);
    REQUIRE_FALSE(ec);
    CHECK(v.at("path") == "/caf\xEF\xBF\xBD");
    CHECK(v.at("user_agent") == "bot\xEF\xBF\xBD\xEF\xBF\xBD");
}

namespace {
constexpr std::string_view inbound_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::pair<std::string, std::string> traceparent{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"};
}  // namespace

TEST_CASE("every format logs the trace id of an inbound traceparent beside the request id", "[middleware][access_log]") {
    for (auto format : {middleware::AccessLogFormat::dev, middleware::AccessLogFormat::combined, middleware::AccessLogFormat::json}) {
        Lines log;
        App app;
        app.use(middleware::access_log(log.options(format)));
        app.use(middleware::request_id());
        app.get("/", [](Request&, Response& res) { res.send("ok"); });  // never asks for the trace
        testing::Client c(app);
        c.get("/", {{"X-Request-Id", "req-1"}, traceparent});
        REQUIRE(log.lines.size() == 1);
        const auto& l = log.lines[0];
        if (format == middleware::AccessLogFormat::json) {
            auto v = boost::json::parse(l).as_object();
            CHECK(v.at("request_id") == "req-1");
            CHECK(v.at("trace_id").as_string() == inbound_trace);
        } else if (format == middleware::AccessLogFormat::dev) {
            CHECK(l.ends_with(" id=req-1 trace=" + std::string(inbound_trace)));
        } else {
            CHECK(l.ends_with(" req-1 " + std::string(inbound_trace)));
        }
    }
}

TEST_CASE("the access log shows a trace made for the request, and makes none for itself", "[middleware][access_log]") {
    Lines log;
    App app = quiet_app();
    app.use(middleware::access_log(log.options(middleware::AccessLogFormat::json)));
    app.get("/plain", [](Request&, Response& res) { res.send("ok"); });
    app.get("/traced", [](Request& req, Response& res) { res.send(std::string(req.trace().trace_id_hex())); });
    app.get("/fails", [](Request&, Response&) { throw HttpError(409, "conflict", "No"); });
    testing::Client c(app);
    c.get("/plain");
    const auto traced = c.get("/traced");
    const auto fails = c.get("/fails");
    REQUIRE(log.lines.size() == 3);
    CHECK_FALSE(boost::json::parse(log.lines[0]).as_object().contains("trace_id"));
    CHECK(boost::json::parse(log.lines[1]).at("trace_id").as_string() == traced.body);
    CHECK(boost::json::parse(log.lines[2]).at("trace_id") == fails.json().at("error").at("trace_id"));  // the error body's
}

// Each line is built in a buffer the thread reuses; a sink that causes another access line on
// the same thread (here an in-process request to a second app) must not find its own line
// overwritten or freed under it.
TEST_CASE("a sink that logs another request on its thread keeps its own line intact", "[middleware][access_log]") {
    Lines inner_log;
    App inner;
    inner.use(middleware::access_log(inner_log.options(middleware::AccessLogFormat::dev)));
    inner.get("/inner", [](Request&, Response& res) { res.send(std::string(5000, 'i')); });
    testing::Client inner_client(inner);

    std::vector<std::string> before, after;
    App outer;
    middleware::AccessLogOptions o;
    o.format = middleware::AccessLogFormat::dev;
    o.sink = [&](std::string_view line) {
        before.emplace_back(line);
        inner_client.get("/inner?" + std::string(3000, 'q'));  // a longer line: the buffer would grow
        after.emplace_back(line);
    };
    outer.use(middleware::access_log(o));
    outer.get("/outer", [](Request&, Response& res) { res.send("abc"); });
    testing::Client c(outer);
    c.get("/outer");
    c.get("/outer");
    REQUIRE(before.size() == 2);
    REQUIRE(inner_log.lines.size() == 2);
    CHECK(after == before);
    CHECK(before[0].rfind("GET /outer 200 3B ", 0) == 0);
    CHECK(inner_log.lines[1].rfind("GET /inner?qqq", 0) == 0);
}
