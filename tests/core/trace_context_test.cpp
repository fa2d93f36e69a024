#include <spur/trace_context.hpp>

#include <spur/app.hpp>
#include <spur/request.hpp>
#include <spur/testing/client.hpp>

#include <boost/json/parse.hpp>

#include "support/text_shape.hpp"

#include <catch2/catch.hpp>

#include <mutex>
#include <set>
#include <string>
#include <vector>

using spur::Request;
using spur::TraceContext;
using spur::test::is_trace_id;

namespace {

constexpr std::string_view trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr std::string_view parent_id = "00f067aa0ba902b7";
const std::string valid = "00-" + std::string(trace_id) + "-" + std::string(parent_id) + "-01";

std::string_view hex(const std::array<char, 16>& a) { return {a.data(), a.size()}; }

bool lower_hex(std::string_view s) { return s.find_first_not_of("0123456789abcdef") == std::string_view::npos; }

// "00-<32 hex>-<16 hex>-<2 hex>"
bool traceparent_shape(std::string_view s) {
    return s.size() == 55 && s.substr(0, 3) == "00-" && s[35] == '-' && s[52] == '-' && lower_hex(s.substr(3, 32)) &&
           lower_hex(s.substr(36, 16)) && lower_hex(s.substr(53, 2));
}

Request traced_request(std::vector<std::pair<std::string, std::string>> headers) {
    Request::Message m;
    m.method(boost::beast::http::verb::get);
    m.target("/");
    m.version(11);
    for (auto& [k, v] : headers) m.insert(k, v);
    return Request(std::move(m));
}

}  // namespace

TEST_CASE("a version 00 traceparent is adopted with a span id of its own", "[core][trace]") {
    const auto c = TraceContext::adopt(valid);
    REQUIRE(c);
    CHECK(c->trace_id_hex() == trace_id);
    CHECK(hex(c->parent_id) == parent_id);
    CHECK(c->flags == 1);
    CHECK(c->adopted);
    CHECK(c->tracestate.empty());
    CHECK(lower_hex(c->span_id_hex()));
    CHECK(c->span_id_hex() != parent_id);
    CHECK(c->traceparent() == "00-" + std::string(trace_id) + "-" + std::string(c->span_id_hex()) + "-01");
}

TEST_CASE("traceparents malformed by the W3C rules are refused", "[core][trace]") {
    const std::string t(trace_id), p(parent_id);
    const std::vector<std::string> bad = {
        "",
        "ff-" + t + "-" + p + "-01",                           // version ff is invalid
        "0-" + t + "-" + p + "-01",                            // version too short
        "000-" + t + "-" + p + "-01",                          // version too long
        ".0-" + t + "-" + p + "-01",                           // version not hex
        "0A-" + t + "-" + p + "-01",                           // version upper-case
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-" + p + "-01",    // upper-case trace id
        "00-" + t + "-00F067AA0BA902B7-01",                    // upper-case parent id
        "00-" + t + "-" + p + "-0A",                           // upper-case flags
        "00-00000000000000000000000000000000-" + p + "-01",    // all-zero trace id
        "00-" + t + "-0000000000000000-01",                    // all-zero parent id
        "00-" + t.substr(1) + "-" + p + "-01",                 // trace id too short
        "00-" + t + "0-" + p + "-01",                          // trace id too long
        "00-." + t.substr(1) + "-" + p + "-01",                // trace id not hex
        "00-" + t + "-" + p.substr(1) + "-01",                 // parent id too short
        "00-" + t + "-" + p + "0-01",                          // parent id too long
        "00-" + t + "-" + p + "-1",                            // flags too short
        "00-" + t + "-" + p + "-001",                          // flags too long
        "00-" + t + "-" + p + "-.0",                           // flags not hex
        "00-" + t + "-" + p + "-01.",                          // trailing data on version 00
        "00-" + t + "-" + p + "-01-what-the-future-will-be-like",  // extra fields on version 00
        "00_" + t + "_" + p + "_01",                           // not dashes
        "cc-" + t + "-" + p + "-01.what-the-future-will-be-like",  // a later version needs a dash
    };
    for (const auto& header : bad) {
        INFO(header);
        CHECK_FALSE(TraceContext::adopt(header));
    }
}

TEST_CASE("a later version is read by the version 00 layout and its extra fields ignored", "[core][trace]") {
    const std::string rest = std::string(trace_id) + "-" + std::string(parent_id) + "-01";
    for (const auto& header : std::vector<std::string>{"cc-" + rest, "cc-" + rest + "-what-the-future-will-be-like", "01-" + rest + "-x"}) {
        INFO(header);
        const auto c = TraceContext::adopt(header);
        REQUIRE(c);
        CHECK(c->trace_id_hex() == trace_id);
        CHECK(hex(c->parent_id) == parent_id);
        CHECK(c->traceparent().substr(0, 3) == "00-");  // passed on in the version spur knows
    }
}

TEST_CASE("spaces and tabs around a traceparent are not part of it", "[core][trace]") {
    for (const auto& header : std::vector<std::string>{" " + valid, "\t" + valid, valid + " ", "\t " + valid + " \t"}) {
        const auto c = TraceContext::adopt(header);
        REQUIRE(c);
        CHECK(c->trace_id_hex() == trace_id);
    }
}

TEST_CASE("the sampled and random flags are kept and reserved flags sent as zero", "[core][trace]") {
    const std::string prefix = "00-" + std::string(trace_id) + "-" + std::string(parent_id) + "-";
    CHECK(TraceContext::adopt(prefix + "00")->flags == 0);
    CHECK(TraceContext::adopt(prefix + "01")->flags == 1);
    CHECK(TraceContext::adopt(prefix + "03")->flags == 3);
    const auto reserved = TraceContext::adopt(prefix + "ff");
    REQUIRE(reserved);
    CHECK(reserved->flags == 3);
    CHECK(reserved->traceparent().ends_with("-03"));
}

TEST_CASE("a valid tracestate is kept as sent", "[core][trace]") {
    const std::vector<std::string> good = {
        "foo=1,bar=2",
        "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
        "foo=1 \t , \t bar=2",
        "tenant@vendor=x,1tenant@v=a b",
        "foo=1,,bar=2",  // empty members are allowed
        "k=" + std::string(254, 'v'),
    };
    for (const auto& state : good) {
        INFO(state);
        const auto c = TraceContext::adopt(valid, state);
        REQUIRE(c);
        CHECK(c->tracestate == state);
    }
    CHECK(TraceContext::adopt(valid, "  foo=1\t")->tracestate == "foo=1");
}

TEST_CASE("a tracestate that breaks the rules or the bounds is dropped, the trace kept", "[core][trace]") {
    std::string members_32 = "k0=v";
    for (int i = 1; i < 32; ++i) members_32 += ",k" + std::to_string(i) + "=v";
    const std::string members_33 = members_32 + ",k32=v";
    CHECK(TraceContext::adopt(valid, members_32)->tracestate == members_32);  // 32 members are the most

    const std::string at_limit = "k=" + std::string(254, 'v') + ",j=" + std::string(253, 'v');
    REQUIRE(at_limit.size() == 512);
    CHECK(TraceContext::adopt(valid, at_limit)->tracestate == at_limit);

    const std::vector<std::string> bad = {
        members_33,             // more than 32 members
        at_limit + "v",         // more than 512 bytes
        "foo=1,foo=2",          // a key twice
        "FOO=1",                // upper-case key
        "foo.bar=1",            // '.' in a key
        "foo =1",               // space in a key
        "foo",                  // no '='
        "foo=",                 // empty value
        "foo=a=b",              // '=' in a value
        "foo=\x01",             // control character
        "foo=caf\xC3\xA9",      // not ASCII
        "foo@=1,bar=2",         // empty system id
        "@foo=1,bar=2",         // empty tenant id
        "foo@@bar=1,bar=2",     // two '@'
        "foo@bar@baz=1,bar=2",  // two '@'
    };
    for (const auto& state : bad) {
        INFO(state);
        const auto c = TraceContext::adopt(valid, state);
        REQUIRE(c);
        CHECK(c->trace_id_hex() == trace_id);
        CHECK(c->tracestate.empty());
    }
}

TEST_CASE("child_traceparent keeps trace id and flags and draws a new span id each call", "[core][trace]") {
    const auto c = TraceContext::adopt(valid);
    REQUIRE(c);
    std::set<std::string> spans{std::string(c->span_id_hex()), std::string(parent_id)};
    for (int i = 0; i < 3; ++i) {
        const auto child = c->child_traceparent();
        REQUIRE(traceparent_shape(child));
        CHECK(child.substr(3, 32) == trace_id);
        CHECK(child.substr(53) == "01");
        CHECK(child.substr(36, 16) != "0000000000000000");
        CHECK(spans.insert(child.substr(36, 16)).second);  // new each call, not this span's, not the caller's
    }
}

TEST_CASE("start() makes lowercase non-zero ids and a new trace each time", "[core][trace]") {
    const auto a = TraceContext::start();
    const auto b = TraceContext::start();
    CHECK(is_trace_id(a.trace_id_hex()));
    CHECK(lower_hex(a.span_id_hex()));
    CHECK(a.span_id_hex() != "0000000000000000");
    CHECK(hex(a.parent_id) == "0000000000000000");
    CHECK(a.flags == 0);
    CHECK_FALSE(a.adopted);
    CHECK(a.tracestate.empty());
    CHECK(traceparent_shape(a.traceparent()));
    CHECK(a.traceparent() == "00-" + std::string(a.trace_id_hex()) + "-" + std::string(a.span_id_hex()) + "-00");
    CHECK(a.trace_id_hex() != b.trace_id_hex());
    CHECK(a.span_id_hex() != b.span_id_hex());
}

TEST_CASE("Request::trace() adopts the traceparent header once and keeps it", "[core][trace]") {
    auto req = traced_request({{"TraceParent", valid}, {"tracestate", "foo=1"}});
    CHECK_FALSE(req.has_trace());
    const auto& first = req.trace();
    CHECK(req.has_trace());
    CHECK(first.trace_id_hex() == trace_id);
    CHECK(first.adopted);
    CHECK(first.tracestate == "foo=1");
    const std::string span(first.span_id_hex());
    CHECK(&req.trace() == &first);
    CHECK(req.trace().span_id_hex() == span);
}

TEST_CASE("Request::trace() starts a trace without a valid single traceparent", "[core][trace]") {
    auto none = traced_request({});
    CHECK(is_trace_id(none.trace().trace_id_hex()));
    CHECK_FALSE(none.trace().adopted);
    CHECK(none.trace().trace_id_hex() == none.trace().trace_id_hex());

    auto invalid = traced_request({{"traceparent", "ff-" + valid.substr(3)}, {"tracestate", "foo=1"}});
    CHECK_FALSE(invalid.trace().adopted);
    CHECK(invalid.trace().trace_id_hex() != trace_id);
    CHECK(invalid.trace().tracestate.empty());

    // Two traceparent headers: the W3C rules restart the trace.
    auto twice = traced_request({{"traceparent", valid}, {"traceparent", valid}});
    CHECK_FALSE(twice.trace().adopted);
    CHECK(twice.trace().trace_id_hex() != trace_id);
}

TEST_CASE("Request::trace() joins tracestate headers into one list", "[core][trace]") {
    auto req = traced_request({{"traceparent", valid}, {"tracestate", "foo=1,bar=2"}, {"tracestate", ""}, {"tracestate", "baz=3"}});
    CHECK(req.trace().tracestate == "foo=1,bar=2,baz=3");
    auto dup = traced_request({{"traceparent", valid}, {"tracestate", "foo=1"}, {"tracestate", "foo=2"}});
    CHECK(dup.trace().trace_id_hex() == trace_id);
    CHECK(dup.trace().tracestate.empty());  // one list with a key twice
}

TEST_CASE("Request::trace(context) replaces the inbound trace", "[core][trace]") {
    auto req = traced_request({{"traceparent", valid}});
    req.trace(TraceContext::start());
    CHECK(req.has_trace());
    CHECK_FALSE(req.trace().adopted);
    CHECK(req.trace().trace_id_hex() != trace_id);
}

TEST_CASE("nothing is parsed or drawn for a request that never asks", "[core][trace]") {
    spur::App app;
    bool had_trace = true;
    app.get("/", [&](Request& req, spur::Response& res) {
        had_trace = req.has_trace();
        res.send("ok");
    });
    spur::testing::Client client(app);
    CHECK(client.get("/", {{"traceparent", valid}}).status == 200);
    CHECK_FALSE(had_trace);
}

namespace {
// Every record a sink received, with its ids.
struct Records {
    std::mutex mutex;
    std::vector<std::string> messages, request_ids, trace_ids;
    spur::LogSink sink() {
        return [this](const spur::LogRecord& r) {
            std::lock_guard lock(mutex);
            messages.emplace_back(r.message);
            request_ids.emplace_back(r.request_id);
            trace_ids.emplace_back(r.trace_id);
        };
    }
};
}  // namespace

TEST_CASE("req.log() records and the core's error records carry the trace id", "[core][trace]") {
    Records records;
    spur::App app(spur::AppOptions{.log = records.sink()});
    std::string seen;
    app.get("/work", [&](Request& req, spur::Response& res) {
        req.log().info("working");
        seen = std::string(req.trace().trace_id_hex());
        res.send("ok");
    });
    app.get("/boom", [](Request&, spur::Response&) { throw std::runtime_error("x"); });
    spur::testing::Client client(app);

    client.get("/work", {{"traceparent", valid}});
    client.get("/work");
    client.get("/boom", {{"traceparent", valid}});
    std::lock_guard lock(records.mutex);
    REQUIRE(records.messages.size() == 3);
    CHECK(records.messages[0] == "working");
    CHECK(records.trace_ids[0] == trace_id);
    CHECK_FALSE(records.request_ids[0].empty());
    CHECK(records.trace_ids[1] == seen);  // the one made for the request, as the handler saw it
    CHECK(is_trace_id(records.trace_ids[1]));
    CHECK(records.messages[2].starts_with("unhandled exception in GET /boom"));
    CHECK(records.trace_ids[2] == trace_id);
}

TEST_CASE("an error body carries the trace id of the inbound traceparent", "[core][trace]") {
    spur::App app(spur::AppOptions{.log = [](spur::LogLevel, std::string_view) {}});
    app.get("/gone", [](Request&, spur::Response&) { throw spur::HttpError(410, "gone", "Gone"); });
    app.get("/boom", [](Request&, spur::Response&) { throw std::runtime_error("x"); });
    spur::testing::Client client(app);

    auto r = client.get("/gone", {{"traceparent", valid}});
    CHECK(r.status == 410);
    CHECK(r.json().at("error").at("trace_id").as_string() == trace_id);
    r = client.get("/boom", {{"traceparent", valid}});
    CHECK(r.status == 500);
    CHECK(r.json().at("error").at("trace_id").as_string() == trace_id);
    r = client.get("/nothing-here", {{"traceparent", valid}});  // the router's 404 too
    CHECK(r.json().at("error").at("trace_id").as_string() == trace_id);

    // Without one, a trace is made; no response header tells it, the body does.
    r = client.get("/gone");
    const auto made = std::string(r.json().at("error").at("trace_id").as_string());
    CHECK(is_trace_id(made));
    CHECK(made != trace_id);
    CHECK(r.header("traceparent").empty());
    CHECK(r.header("traceresponse").empty());
}

TEST_CASE("a middleware can refuse inbound traces by setting a new one", "[core][trace]") {
    spur::App app;
    app.use([](Request& req, spur::Response&, spur::Next next) -> spur::Task<> {
        req.trace(TraceContext::start());
        co_await next();
    });
    app.get("/gone", [](Request&, spur::Response&) { throw spur::HttpError(410, "gone", "Gone"); });
    spur::testing::Client client(app);
    auto r = client.get("/gone", {{"traceparent", valid}});
    const auto id = std::string(r.json().at("error").at("trace_id").as_string());
    CHECK(is_trace_id(id));
    CHECK(id != trace_id);
}
