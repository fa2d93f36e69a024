// HTTP/2 streams reach the same App as HTTP/1.1 requests: routing, middleware and finish hooks
// after the write; a reset stream is a client that left (499, the handler cancelled); drain
// sends GOAWAY and lets open streams finish. The protocol and attack suite runs with an
// independent client (python3-h2) in tests/http2/.
#if SPUR_TEST_HTTP2
#include <spur/middleware/access_log.hpp>
#include <spur/middleware/security_headers.hpp>
#include <spur/server.hpp>
#include <spur/spur.hpp>

#include "support/h2_client.hpp"
#include "support/test_server.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>

using namespace std::chrono_literals;
using spur::test::H2Client;

namespace {

spur::ServerOptions h2c_options() {
    auto o = spur::test::test_options();
    o.http2.cleartext = true;
    return o;
}

struct Recorded {
    std::mutex mutex;
    std::vector<int> statuses;  // seen by finish hooks
    std::vector<std::string> lines;  // the access log
    void status(int s) {
        std::lock_guard lock(mutex);
        statuses.push_back(s);
    }
    bool saw(int s) {
        std::lock_guard lock(mutex);
        return std::find(statuses.begin(), statuses.end(), s) != statuses.end();
    }
    bool logged(std::string_view needle) {
        std::lock_guard lock(mutex);
        return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(needle) != std::string::npos; });
    }
};

spur::Task<> h2_sleep_for(std::chrono::milliseconds ms) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, ms);
    co_await timer.async_wait(boost::asio::use_awaitable);
}

}  // namespace

TEST_CASE("an h2c stream is routed through the app's middleware, and its hooks run after the write", "[server][http2]") {
    spur::App app;
    auto rec = std::make_shared<Recorded>();
    spur::middleware::AccessLogOptions log;
    log.format = spur::middleware::AccessLogFormat::combined;
    log.sink = [rec](std::string_view line) {
        std::lock_guard lock(rec->mutex);
        rec->lines.emplace_back(line);
    };
    app.use(spur::middleware::access_log(log));
    app.use(spur::middleware::security_headers());  // preset fields: the h2 head has them too
    app.use([rec](spur::Request&, spur::Response& res, spur::Next next) -> spur::Task<> {
        res.on_finish([rec](spur::Response& r) { rec->status(r.status()); });
        res.set("X-Middleware", "ran");
        co_await next();
    });
    app.get("/users/:id", [](spur::Request& req, spur::Response& res) {
        res.json({{"id", req.param("id")}, {"version", req.version()}, {"cookie", req.cookie("b").value_or("")}});
    });
    app.post("/echo", [](spur::Request& req, spur::Response& res) -> spur::Task<> {
        co_await req.read_body();
        res.send(req.body());
    });
    spur::test::TestServer server(app, h2c_options());
    H2Client c(server.port());
    const auto get = c.request("GET", "/users/7");
    const auto post = c.request("POST", "/echo", std::string(100'000, 'x'));
    const auto missing = c.request("GET", "/nowhere");
    auto& a = c.answer(get);
    CHECK(a.status == 200);
    CHECK(a.body.find(R"("id":"7")") != std::string::npos);
    CHECK(a.body.find(R"("version":20)") != std::string::npos);
    const auto has = [&](const std::string& name, const std::string& value) {
        return std::find(a.headers.begin(), a.headers.end(), std::make_pair(name, value)) != a.headers.end();
    };
    CHECK(has("x-middleware", "ran"));
    CHECK(has("server", "spur"));
    CHECK(has("x-frame-options", "DENY"));
    CHECK(std::count_if(a.headers.begin(), a.headers.end(), [](const auto& h) { return h.first == "x-frame-options"; }) == 1);
    CHECK(std::none_of(a.headers.begin(), a.headers.end(), [](const auto& h) { return h.first == "connection"; }));
    auto& p = c.answer(post);
    CHECK(p.status == 200);
    CHECK(p.body.size() == 100'000);
    CHECK(c.answer(missing).status == 404);
    CHECK(spur::test::eventually([&] { return rec->logged("\"GET /users/7 HTTP/2.0\" 200"); }));
    CHECK(spur::test::eventually([&] { return rec->saw(404); }));
}

TEST_CASE("a reset stream cancels its handler as a client that leaves does: 499 in its hooks, others go on",
          "[server][http2]") {
    spur::App app;
    auto rec = std::make_shared<Recorded>();
    std::atomic<bool> cancelled{false};
    std::atomic<bool> started{false};
    app.use([rec](spur::Request&, spur::Response& res, spur::Next next) -> spur::Task<> {
        res.on_finish([rec](spur::Response& r) { rec->status(r.status()); });
        co_await next();
    });
    app.get("/hang", [&](spur::Request&, spur::Response& res) -> spur::Task<> {
        started = true;
        try {
            co_await h2_sleep_for(30s);
        } catch (const boost::system::system_error& e) {
            cancelled = e.code() == boost::asio::error::operation_aborted;
            throw;
        }
        res.send("late");
    });
    app.get("/quick", [](spur::Request&, spur::Response& res) { res.send("quick"); });
    spur::test::TestServer server(app, h2c_options());
    H2Client c(server.port());
    const auto hang = c.request("GET", "/hang");
    // Not c.until: it waits for the server to send something, and a hanging handler sends
    // nothing, so on a slow host it would wait out its timeout after the handler started.
    REQUIRE(spur::test::eventually([&] { return started.load(); }));
    c.reset(hang);
    CHECK(spur::test::eventually([&] { return cancelled.load(); }, 3s));
    CHECK(spur::test::eventually([&] { return rec->saw(499); }, 3s));
    // The connection still serves.
    const auto quick = c.request("GET", "/quick");
    auto& q = c.answer(quick);
    CHECK(q.status == 200);
    CHECK(q.body == "quick");
    CHECK_FALSE(c.goaway());
}

TEST_CASE("an h2 connection holds at most a window of unread body per stream, counted in the server's budget",
          "[server][http2]") {
    spur::App app;
    std::atomic<int> waiting{0};
    std::atomic<bool> release{false};
    app.post("/unread", [&](spur::Request& req, spur::Response& res) -> spur::Task<> {
        ++waiting;
        while (!release) co_await h2_sleep_for(5ms);
        co_await req.read_body();  // now the window opens as it reads
        res.send(std::to_string(req.body().size()));
    }).body_limit(4 << 20).stream_body();  // the body stays on the wire until the handler reads it
    auto options = h2c_options();
    options.http2.stream_window = 32 * 1024;
    spur::test::TestServer server(app, options);
    H2Client c(server.port());
    std::vector<std::int32_t> ids;
    for (int i = 0; i < 8; ++i) ids.push_back(c.request("POST", "/unread", std::string(1 << 20, 'b')));
    // Eight handlers wait without reading: each stream got its window's worth, no more (a
    // stream opened before the client saw spur's SETTINGS may use HTTP/2's initial 65,535).
    const auto bound = 8u * 65'535;
    const bool filled = spur::test::eventually([&] {
        c.until([] { return false; }, 10ms);  // the client reads the server's SETTINGS and sends on
        return waiting.load() == 8 && server.server().stats().buffered_body_bytes >= 8u * 32 * 1024;
    });
    const auto held = server.server().stats().buffered_body_bytes;
    INFO("waiting " << waiting.load() << " buffered " << held);
    REQUIRE(filled);
    CHECK(held <= bound);
    c.until([] { return false; }, 200ms);  // the client has time to try to send more: it cannot
    CHECK(server.server().stats().buffered_body_bytes <= bound);
    release = true;
    for (auto id : ids) {
        auto& a = c.answer(id, 10s);
        CHECK(a.status == 200);
        CHECK(a.body == std::to_string(1 << 20));
    }
    CHECK(spur::test::eventually([&] { return server.server().stats().buffered_body_bytes == 0; }));
}

TEST_CASE("drain sends GOAWAY and lets an open stream finish", "[server][http2]") {
    spur::App app;
    std::atomic<bool> started{false};
    app.get("/slow", [&](spur::Request&, spur::Response& res) -> spur::Task<> {
        started = true;
        co_await h2_sleep_for(300ms);
        res.send("finished");
    });
    spur::test::TestServer server(app, h2c_options());
    H2Client c(server.port());
    const auto slow = c.request("GET", "/slow");
    // Not c.until: it returns only once the server sends something, which on a loaded host can
    // be the answer itself, and the drain would then begin after the stream ended.
    REQUIRE(spur::test::eventually([&] { return started.load(); }));
    server.server().shutdown();
    auto& a = c.answer(slow);
    CHECK(a.status == 200);
    CHECK(a.body == "finished");
    CHECK(c.until([&] { return c.goaway().has_value(); }));  // may come after the answer
    CHECK(c.goaway() == std::optional<std::uint32_t>(NGHTTP2_NO_ERROR));
    CHECK(c.until([&] { return c.server_closed(); }));
    server.stop();
}

TEST_CASE("an h2 client that stops mid-frame is closed after header_timeout, even with a stream open",
          "[server][http2]") {
    spur::App app;
    app.get("/hang", [](spur::Request&, spur::Response& res) -> spur::Task<> {
        co_await h2_sleep_for(30s);
        res.send("late");
    });
    auto options = h2c_options();
    options.header_timeout = 300ms;
    spur::test::TestServer server(app, options);
    using namespace std::string_literals;
    const std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"s;
    const std::string settings = "\x00\x00\x00\x04\x00\x00\x00\x00\x00"s;  // empty SETTINGS
    // HEADERS on stream 1, END_STREAM|END_HEADERS: GET /hang, HPACK-indexed :method GET (0x82),
    // :scheme http (0x86), :path literal "/hang", :authority literal "x".
    const std::string block = "\x82\x86\x44\x05/hang\x41\x01x"s;
    const std::string headers = "\x00\x00"s + char(block.size()) + "\x01\x05\x00\x00\x00\x01"s + block;
    spur::test::RawConnection open_stream(server.port(), 3s);
    open_stream.send(preface + settings + headers);
    // A frame header cut in the middle, after a stream is open: a trickle.
    open_stream.send("\x00\x00\x08\x06"s);
    const auto start = std::chrono::steady_clock::now();
    CHECK(open_stream.wait_closed());
    CHECK(std::chrono::steady_clock::now() - start < 2s);
    // A preface alone, then nothing: the same.
    spur::test::RawConnection silent(server.port(), 3s);
    silent.send(preface.substr(0, 10));
    CHECK(silent.wait_closed());
}

TEST_CASE("without http2.cleartext the h2 preface is an HTTP/1.1 request spur refuses", "[server][http2]") {
    spur::App app;
    app.get("/", [](spur::Request&, spur::Response& res) { res.send("x"); });
    spur::test::TestServer server(app);
    auto r = spur::test::round_trip(server.port(), "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    REQUIRE(r);
    CHECK(r->result_int() == 400);  // Beast refuses the version before spur's 505 check
}
#endif
