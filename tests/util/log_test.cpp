#include <spur/log.hpp>

#include <spur/app.hpp>
#include <spur/middleware/request_id.hpp>
#include <spur/testing/client.hpp>

#include "util/log_line.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <mutex>
#include <vector>

using namespace spur;

namespace {
// Every record, with its request id and fields as text.
struct Records {
    std::mutex mutex;
    std::vector<std::string> lines;
    std::vector<std::string> ids;
    LogSink sink() {
        return [this](const LogRecord& r) {
            std::lock_guard lock(mutex);
            lines.push_back(std::string(to_string(r.level)) + " " + format_text(r));
            ids.emplace_back(r.request_id);
        };
    }
};
}  // namespace

TEST_CASE("records format as text with quoted values and as one JSON object", "[util][log]") {
    const LogField fields[] = {{"user", 42}, {"email", "a b@example.com"}, {"plain", "word"}};
    const LogRecord r{.level = LogLevel::warn, .message = "login failed", .request_id = "req-1", .fields = fields};
    CHECK(format_text(r) == R"(login failed request_id=req-1 user=42 email="a b@example.com" plain=word)");
    auto j = boost::json::parse(format_json(r)).as_object();
    CHECK(j.at("level") == "warn");
    CHECK(j.at("msg") == "login failed");
    CHECK(j.at("request_id") == "req-1");
    CHECK_FALSE(j.contains("trace_id"));  // outside a trace, no key
    CHECK(j.at("user") == 42);
    CHECK(j.at("email") == "a b@example.com");
    const auto time = std::string(j.at("time").as_string());
    CHECK(time.size() == 24);  // 2026-12-01T12:00:00.123Z
    CHECK(time.back() == 'Z');
    // A message with a newline stays one line.
    CHECK(format_json(LogRecord{.level = LogLevel::info, .message = "two\nlines"}).find('\n') == std::string::npos);
}

TEST_CASE("the trace id follows the request id in both formats", "[util][log]") {
    const LogField fields[] = {{"step", 1}};
    const LogRecord r{.level = LogLevel::info,
                      .message = "working",
                      .request_id = "req-1",
                      .fields = fields,
                      .trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"};
    CHECK(format_text(r) == "working request_id=req-1 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 step=1");
    const auto line = format_json(r);
    CHECK(line.find(R"("request_id":"req-1","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","step":1})") != std::string::npos);
    // A record with a trace but no request id (a background task continuing a trace, say).
    CHECK(format_text(LogRecord{.message = "m", .trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"}) ==
          "m trace_id=4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST_CASE("a (level, line) sink receives the record as a text line", "[util][log]") {
    std::vector<std::string> got;
    LogSink sink = [&](LogLevel level, std::string_view line) { got.push_back(std::string(to_string(level)) + ":" + std::string(line)); };
    sink(LogLevel::error, "plain");
    const LogField f[] = {{"k", true}};
    sink(LogRecord{.level = LogLevel::info, .message = "with", .request_id = "id-9", .fields = f});
    CHECK(got == std::vector<std::string>{"error:plain", "info:with request_id=id-9 k=true"});
}

TEST_CASE("req.log() and error bodies carry the request id, from request_id() or made on first use", "[util][log]") {
    const std::pair<std::string, std::string> traceparent{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"};
    Records records;
    App app(AppOptions{.log = records.sink()});
    app.use(middleware::request_id());
    app.get("/work", [](Request& req, Response& res) {
        req.log().info("working", {{"step", 1}});
        res.send("ok");
    });
    app.get("/fail", [](Request& req, Response&) {
        req.log().warn("about to fail");
        throw std::runtime_error("secret detail");
    });
    app.get("/missing", [](Request&, Response&) { throw HttpError(404, "not_found", "No such thing"); });
    testing::Client client(app);

    auto r = client.get("/work", {{"X-Request-Id", "trace-123"}, traceparent});
    CHECK(r.status == 200);
    r = client.get("/fail", {{"X-Request-Id", "trace-456"}, traceparent});
    CHECK(r.status == 500);
    CHECK(r.json().at("error").at("request_id") == "trace-456");
    CHECK(r.body.find("secret") == std::string::npos);
    r = client.get("/missing");
    CHECK(r.json().at("error").at("request_id").as_string() == r.header("X-Request-Id"));  // the generated one
    {
        std::lock_guard lock(records.mutex);
        REQUIRE(records.lines.size() == 3);
        CHECK(records.lines[0] == "info working request_id=trace-123 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 step=1");
        CHECK(records.lines[1] == "warn about to fail request_id=trace-456 trace_id=4bf92f3577b34da6a3ce929d0e0e4736");
        CHECK(records.lines[2] ==
              "error unhandled exception in GET /fail: secret detail request_id=trace-456 trace_id=4bf92f3577b34da6a3ce929d0e0e4736");
    }

    // Without the request_id middleware an id is made when something needs one.
    App bare(AppOptions{.log = records.sink()});
    bare.get("/x", [](Request& req, Response&) {
        CHECK(req.id() == req.id());  // made once
        throw HttpError(409, "conflict", "No");
    });
    testing::Client bare_client(bare);
    auto b = bare_client.get("/x");
    const auto id = std::string(b.json().at("error").at("request_id").as_string());
    CHECK(id.size() == 36);  // a UUID
    CHECK(bare_client.get("/nothing-here").json().at("error").at("request_id").as_string() != id);
}

TEST_CASE("JSON lines are valid UTF-8 whatever bytes a message or field holds", "[util][log]") {
    // A stray continuation byte, a truncated sequence, an overlong '/', a surrogate, 0xFF.
    const char* const bad = "a\x80" "b\xE2\x82" "c\xC0\xAF" "d\xED\xA0\x80" "e\xFF";
    const LogField fields[] = {{"agent", bad}, {"nested", boost::json::object{{"k", boost::json::array{bad}}}}, {bad, 1}};
    const LogRecord r{.level = LogLevel::warn, .message = bad, .request_id = bad, .fields = fields};
    const auto line = format_json(r);
    boost::system::error_code ec;
    auto parsed = boost::json::parse(line, ec);  // Boost.JSON refuses invalid UTF-8
    REQUIRE_FALSE(ec);
    const auto& j = parsed.as_object();
    const char* const expected = "a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD"
                                 "d\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "e\xEF\xBF\xBD";
    CHECK(j.at("msg") == expected);
    CHECK(j.at("request_id") == expected);
    CHECK(j.at("agent") == expected);
    CHECK(j.at("nested").at("k").at(0) == expected);
    CHECK(j.contains(expected));  // the field's name
    // Valid text, multi-byte included, is untouched; so is the text format's.
    const LogRecord ok{.level = LogLevel::info, .message = "h\xC3\xA9llo \xF0\x9F\x98\x80"};
    CHECK(boost::json::parse(format_json(ok)).at("msg") == "h\xC3\xA9llo \xF0\x9F\x98\x80");
    CHECK(format_text(r).find('\x80') == std::string::npos);
    CHECK(format_text(ok) == "h\xC3\xA9llo \xF0\x9F\x98\x80");
}

TEST_CASE("a text line's message keeps to one line: control characters are escaped, tabs kept", "[util][log]") {
    const LogRecord forged{.level = LogLevel::error,
                           .message = "bad input: x\nspur info: admin logged in\r\x1b[2J\x7f\tend",
                           .request_id = "r1"};
    const auto line = format_text(forged);
    CHECK(line == "bad input: x\\nspur info: admin logged in\\r\\x1b[2J\\x7f\tend request_id=r1");
    CHECK(line.find('\n') == std::string::npos);
    CHECK(detail::format_line(forged, LogFormat::text).rfind("spur error: bad input: x\\n", 0) == 0);
    // JSON lines escape them already: the message comes back as it was.
    CHECK(boost::json::parse(format_json(forged)).at("msg").as_string() == forged.message);
    CHECK(format_text(LogRecord{.message = "plain message"}) == "plain message");
    // C1 controls and the Unicode line separators, in UTF-8: escaped; other text is not.
    CHECK(format_text(LogRecord{.message = "a\xC2\x85" "b\xC2\x9B" "2J\xE2\x80\xA8" "c\xE2\x80\xA9"}) ==
          "a\\u0085b\\u009b2J\\u2028c\\u2029");
    CHECK(format_text(LogRecord{.message = "caf\xC3\xA9 \xC2\xA0 \xE2\x80\x94"}) == "caf\xC3\xA9 \xC2\xA0 \xE2\x80\x94");
    CHECK(format_text(LogRecord{.message = "cut \xC2"}) == "cut \xEF\xBF\xBD");  // a broken sequence stays a replacement
    // A field's value with an escape sequence is quoted as JSON, which escapes it.
    const LogField fields[] = {{"agent", "x\x1b[2Jy"}};
    CHECK(format_text(LogRecord{.message = "m", .fields = fields}) == "m agent=\"x\\u001b[2Jy\"");
}
