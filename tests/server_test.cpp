#include <spur/server.hpp>

#include <spur/offload.hpp>

#include "support/test_server.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "support/error_body.hpp"

#include <catch2/catch.hpp>

#include <future>
#include <map>
#include <mutex>
#include <thread>

using spur::App;
using spur::Request;
using spur::Response;
using spur::Task;
using spur::test::RawConnection;
using spur::test::round_trip;
using spur::test::TestServer;
using spur::test::test_options;

namespace {

Task<> sleep_for(std::chrono::milliseconds d) {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, d);
    co_await t.async_wait(boost::asio::use_awaitable);
}

// An app with the routes most wire tests use.
void add_basic_routes(App& app) {
    app.get("/", [](Request&, Response& res) { res.send("root"); });
    app.get("/echo", [](Request& req, Response& res) { res.send(std::string(req.query("v").value_or(""))); });
    app.post("/body", [](Request& req, Response& res) { res.send("got " + std::to_string(req.body().size())); });
    app.get("/auth", [](Request& req, Response& res) { res.send("auth=[" + std::string(req.header("Authorization")) + "]"); });
    app.post("/auth", [](Request& req, Response& res) {
        res.send("auth=[" + std::string(req.header("Authorization")) + "] body=" + req.body());
    });
    app.get("/slow", [](Request&, Response& res) -> Task<> {
        co_await sleep_for(std::chrono::milliseconds(50));
        res.send("slow");
    });
}

App quiet_app() {
    return App(spur::AppOptions{[](spur::LogLevel, std::string_view) {}});
}

std::string get(std::string_view path, std::string_view extra = "") {
    return "GET " + std::string(path) + " HTTP/1.1\r\nHost: t\r\n" + std::string(extra) + "\r\n";
}

}  // namespace

TEST_CASE("binding port 0 reports the real port and serves on it", "[server]") {
    App app;
    add_basic_routes(app);
    TestServer srv(app);
    REQUIRE(srv.port() != 0);
    auto r = round_trip(srv.port(), get("/"));
    REQUIRE(r);
    CHECK(r->result_int() == 200);
    CHECK(r->body() == "root");
    CHECK((*r)["Server"] == "spur");
}

TEST_CASE("Date and Server and Content-Length go out once each - written by the server or seen by finish hooks",
          "[server]") {
    // Without finish hooks the server writes these three itself instead of adding them to the
    // response's header; with hooks they are in the header the hooks see. The wire is the same.
    App app;
    std::mutex mutex;
    std::string seen;
    app.get("/plain", [](Request&, Response& res) { res.send("hello"); });
    app.get("/hooked", [&](Request&, Response& res) {
        res.on_finish([&](Response& r) {
            std::lock_guard lock(mutex);
            seen = std::string(r.get("Content-Length")) + "|" + std::string(r.get("Server")) + "|" +
                   std::to_string(r.get("Date").size());
        });
        res.send("hello");
    });
    app.get("/own", [](Request&, Response& res) {
        res.set("Server", "mine");
        res.set("Content-Length", "999");
        res.send("hello");
    });
    TestServer srv(app);
    const auto check = [](const spur::test::RawResponse& r, std::string_view server) {
        std::map<std::string, int> count;
        for (const auto& field : r) ++count[std::string(field.name_string())];
        CHECK(count["Date"] == 1);
        CHECK(count["Server"] == 1);
        CHECK(count["Content-Length"] == 1);
        CHECK(r[boost::beast::http::field::date].size() == 29);
        CHECK(r[boost::beast::http::field::date].ends_with(" GMT"));
        CHECK(r[boost::beast::http::field::server] == server);
        CHECK(r[boost::beast::http::field::content_length] == "5");
    };
    RawConnection c(srv.port());
    c.send(get("/plain"));
    auto plain = c.read_response();
    REQUIRE(plain);
    CHECK(plain->body() == "hello");
    check(*plain, "spur");
    c.send("HEAD /plain HTTP/1.1\r\nHost: t\r\n\r\n");
    auto head = c.read_response(true);
    REQUIRE(head);
    check(*head, "spur");
    c.send(get("/own") + get("/hooked") + get("/plain"));  // pipelined: one batch
    for (std::string_view server : {"mine", "spur", "spur"}) {
        auto r = c.read_response();
        REQUIRE(r);
        CHECK(r->body() == "hello");
        check(*r, server);
    }
    CHECK(spur::test::eventually([&] {
        std::lock_guard lock(mutex);
        return seen == "5|spur|29";
    }));
}

TEST_CASE("keep-alive serves several requests on one connection", "[server]") {
    App app;
    add_basic_routes(app);
    TestServer srv(app);
    RawConnection c(srv.port());
    for (int i = 0; i < 5; ++i) {
        c.send(get("/echo?v=" + std::to_string(i)));
        auto r = c.read_response();
        REQUIRE(r);
        CHECK(r->body() == std::to_string(i));
        CHECK(r->keep_alive());
    }
}

TEST_CASE("pipelined requests are answered in order", "[server]") {
    App app;
    add_basic_routes(app);
    TestServer srv(app);
    RawConnection c(srv.port());
    c.send(get("/slow") + get("/echo?v=second") +
           "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nabcd" + get("/echo?v=fourth"));
    std::vector<std::string> bodies;
    for (int i = 0; i < 4; ++i) {
        auto r = c.read_response();
        REQUIRE(r);
        bodies.push_back(r->body());
    }
    CHECK(bodies == std::vector<std::string>{"slow", "second", "got 4", "fourth"});
}

TEST_CASE("Connection: close is honoured", "[server]") {
    App app;
    add_basic_routes(app);
    TestServer srv(app);
    RawConnection c(srv.port());
    c.send(get("/", "Connection: close\r\n"));
    auto r = c.read_response();
    REQUIRE(r);
    CHECK((*r)["Connection"] == "close");
    CHECK(c.wait_closed());
}

TEST_CASE("HTTP/1.0 closes by default and keeps alive when asked", "[server]") {
    App app;
    add_basic_routes(app);
    TestServer srv(app);
    {
        RawConnection c(srv.port());
        c.send("GET / HTTP/1.0\r\n\r\n");
        auto r = c.read_response();
        REQUIRE(r);
        CHECK(r->version() == 10);
        CHECK(r->body() == "root");
        CHECK(c.wait_closed());
    }
    {
        RawConnection c(srv.port());
        c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        auto r = c.read_response();
        REQUIRE(r);
        CHECK((*r)["Connection"] == "keep-alive");
        c.send("GET /echo?v=again HTTP/1.0\r\n\r\n");
        auto r2 = c.read_response();
        REQUIRE(r2);
        CHECK(r2->body() == "again");
    }
}

TEST_CASE("HEAD over the wire has Content-Length and no body", "[server]") {
    App app;
    add_basic_routes(app);
    TestServer srv(app);
    RawConnection c(srv.port());
    c.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\n" + get("/echo?v=next"));
    auto h = c.read_response(true);
    REQUIRE(h);
    CHECK((*h)["Content-Length"] == "4");
    auto next = c.read_response();
    REQUIRE(next);
    CHECK(next->body() == "next");  // no stray body bytes between the two
}

TEST_CASE("a body over the limit is 413 before it is read - per-route limits override", "[server][limits]") {
    App app;
    add_basic_routes(app);
    app.post("/small", [](Request& req, Response& res) { res.send(req.body()); }).body_limit(10);
    auto options = test_options();
    options.max_body_bytes = 1000;
    TestServer srv(app, options);

    // Only the header is sent: the answer must not wait for 5000 bytes of body.
    auto big = round_trip(srv.port(), "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n");
    REQUIRE(big);
    CHECK(big->result_int() == 413);
    CHECK(spur::test::without_request_id(big->body()) ==
          boost::json::parse(R"({"success":false,"error":{"code":"payload_too_large","message":"Request body too large"}})"));

    auto fits = round_trip(srv.port(), "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n" + std::string(1000, 'x'));
    REQUIRE(fits);
    CHECK(fits->body() == "got 1000");

    auto small = round_trip(srv.port(), "POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world");
    REQUIRE(small);
    CHECK(small->result_int() == 413);
    auto small_ok = round_trip(srv.port(), "POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
    REQUIRE(small_ok);
    CHECK(small_ok->body() == "hello");

    // Chunked bodies have no length up front; the limit applies as chunks arrive.
    std::string chunk(600, 'y');
    auto chunked = round_trip(srv.port(), "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n" +
                                              chunk + "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n");
    REQUIRE(chunked);
    CHECK(chunked->result_int() == 413);
}

TEST_CASE("Expect: 100-continue gets an interim response - other expectations 417", "[server]") {
    App app;
    add_basic_routes(app);
    TestServer srv(app);
    RawConnection c(srv.port());
    c.send("POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
    auto interim = c.read_response();
    REQUIRE(interim);
    CHECK(interim->result_int() == 100);
    c.send("abc");
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->body() == "got 3");

    auto weird = round_trip(srv.port(), "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: magic\r\n\r\nabc");
    REQUIRE(weird);
    CHECK(weird->result_int() == 417);
}

TEST_CASE("oversized header is 431 and overlong request line is 414", "[server][limits]") {
    App app;
    add_basic_routes(app);
    auto options = test_options();
    options.max_header_bytes = 1024;
    options.max_request_line = 256;
    TestServer srv(app, options);
    auto h = round_trip(srv.port(), get("/", "X-Big: " + std::string(2000, 'a') + "\r\n"));
    REQUIRE(h);
    CHECK(h->result_int() == 431);
    CHECK(h->body().find("headers_too_large") != std::string::npos);
    auto u = round_trip(srv.port(), get("/echo?v=" + std::string(300, 'u')));
    REQUIRE(u);
    CHECK(u->result_int() == 414);
    auto ok = round_trip(srv.port(), get("/echo?v=" + std::string(200, 'u')));
    REQUIRE(ok);
    CHECK(ok->result_int() == 200);
}

namespace {
struct FramingCase {
    const char* name;
    std::string request;
    int status;
};
}  // namespace

TEST_CASE("ambiguous or malformed framing is refused - the connection closed - and nothing after it answered",
          "[server][framing]") {
    App app;
    add_basic_routes(app);
    TestServer srv(app);
    const std::string smuggled = get("/echo?v=SMUGGLED");
    const std::vector<FramingCase> cases = {
        {"TE gzip then CL", "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello", 400},
        {"CL then TE chunked", "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
        {"TE chunked then CL", "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400},
        {"HTTP/1.0 with TE chunked", "POST /body HTTP/1.0\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400},
        {"TE chunked, gzip", "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 501},
        {"TE xchunked", "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 501},
        {"TE identity", "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: identity\r\n\r\n", 501},
        {"missing Host on 1.1", "GET / HTTP/1.1\r\n\r\n", 400},
        {"duplicate Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
        {"Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
        {"obs-fold", "GET / HTTP/1.1\r\nHost: t\r\nX-A: a\r\n b\r\n\r\n", 400},
        {"bare LF", "GET / HTTP/1.1\nHost: t\n\n", 400},
        {"bare CR", "GET / HTTP/1.1\r\nHost: t\rX: y\r\n\r\n", 400},
        {"NUL in header", std::string("GET / HTTP/1.1\r\nHost: t\r\nX: a\0b\r\n\r\n", 33), 400},
        {"CL list 1,1", "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 1,1\r\n\r\nx", 400},
        {"CL +5", "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: +5\r\n\r\nhello", 400},
        {"differing CLs", "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx", 400},
        {"space before colon", "GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400},
        {"HTTP/1.2", "GET / HTTP/1.2\r\nHost: t\r\n\r\n", 400},
        {"garbage", "HELLO\r\n\r\n", 400},
        {"relative target", "GET abc HTTP/1.1\r\nHost: t\r\n\r\n", 400},
        {"CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 501},
        {"bad chunk size", "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400},
        {"0x chunk size", "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", 400},
        {"chunk LF-only", "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n", 400},
        // After llhttp's and nginx's published behaviour:
        {"TE on a continuation line", "POST /body HTTP/1.1\r\nHost: t\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
        {"TE chunked twice", "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
        {"chunk size overflow", "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nhello\r\n0\r\n\r\n", 400},
        {"negative chunk size", "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", 400},
        {"bare CR in chunk extension", "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\rc\r\nhello\r\n0\r\n\r\n", 400},
        {"empty Content-Length", "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length:\r\n\r\nhello", 400},
        {"NUL in request line", std::string("GET /\0 HTTP/1.1\r\nHost: t\r\n\r\n", 28), 400},
        {"tab in header name", "GET / HTTP/1.1\r\nHost: t\r\nX\tY: z\r\n\r\n", 400},
        {"request line over 8 KiB", "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: t\r\n\r\n", 414},
        {"header block over 16 KiB", "GET / HTTP/1.1\r\nHost: t\r\nX: " + std::string(17000, 'a') + "\r\n\r\n", 431},
    };
    for (const auto& tc : cases) {
        INFO(tc.name);
        RawConnection c(srv.port());
        c.try_send(tc.request + smuggled);  // the server may close before reading it all
        auto r = c.read_response();
        REQUIRE(r);
        CHECK(static_cast<int>(r->result_int()) == tc.status);
        CHECK((*r)["Connection"] == "close");
        CHECK((*r)["Content-Type"] == "application/json");
        CHECK(r->body().find("SMUGGLED") == std::string::npos);
        CHECK_FALSE(c.read_response());  // the smuggled request is never answered
    }
    // and the server is still fine
    auto after = round_trip(srv.port(), get("/"));
    REQUIRE(after);
    CHECK(after->result_int() == 200);
}

TEST_CASE("chunked trailers never become request headers", "[server][framing]") {
    App app;
    add_basic_routes(app);
    TestServer srv(app);
    auto r = round_trip(srv.port(),
                        "POST /auth HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "5\r\nhello\r\n0\r\nAuthorization: Bearer injected\r\n\r\n");
    REQUIRE(r);
    CHECK(r->result_int() == 200);
    CHECK(r->body() == "auth=[] body=hello");
}

TEST_CASE("oversized chunk extensions and trailers are refused and the server keeps serving", "[server][framing]") {
    App app;
    add_basic_routes(app);
    TestServer srv(app);
    const std::string head = "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (const std::string& body : {"5;ext=" + std::string(200000, 'e') + "\r\nhello\r\n0\r\n\r\n",
                                    "5\r\nhello\r\n0\r\nX-Big: " + std::string(70000, 't') + "\r\n\r\n"}) {
        RawConnection c(srv.port());
        c.try_send(head + body);
        auto r = c.read_response();
        REQUIRE(r);
        CHECK(r->result_int() == 400);
    }
    auto after = round_trip(srv.port(), get("/"));
    REQUIRE(after);
    CHECK(after->body() == "root");
}

TEST_CASE("a client that stalls mid-header is dropped at the header deadline", "[server][timeouts]") {
    App app;
    add_basic_routes(app);
    auto options = test_options();
    options.header_timeout = std::chrono::milliseconds(300);
    TestServer srv(app, options);
    RawConnection c(srv.port());
    c.send("GET / HTTP/1.1\r\nHost: t\r\n");  // never finishes the header
    auto start = std::chrono::steady_clock::now();
    CHECK(c.wait_closed());
    auto waited = std::chrono::steady_clock::now() - start;
    CHECK(waited >= std::chrono::milliseconds(250));
    CHECK(waited < std::chrono::seconds(4));
}

TEST_CASE("a slowloris dribbling header bytes is still cut off by the header deadline", "[server][timeouts]") {
    App app;
    add_basic_routes(app);
    auto options = test_options();
    options.header_timeout = std::chrono::milliseconds(400);
    TestServer srv(app, options);
    RawConnection c(srv.port());
    c.send("GET / HTTP/1.1\r\n");
    bool cut_off = false;
    for (int i = 0; i < 40 && !cut_off; ++i) {  // one header byte every 50 ms, for up to 2 s
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        cut_off = !c.try_send("X");
    }
    CHECK((cut_off || c.wait_closed()));
}

TEST_CASE("an idle keep-alive connection is closed after the idle timeout", "[server][timeouts]") {
    App app;
    add_basic_routes(app);
    auto options = test_options();
    options.idle_timeout = std::chrono::milliseconds(200);
    TestServer srv(app, options);
    RawConnection c(srv.port());
    c.send(get("/"));
    REQUIRE(c.read_response());
    auto start = std::chrono::steady_clock::now();
    CHECK(c.wait_closed());
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
}

TEST_CASE("a client whose body stops arriving is dropped at the body deadline", "[server][timeouts]") {
    App app;
    add_basic_routes(app);
    auto options = test_options();
    options.body_timeout = std::chrono::milliseconds(300);
    TestServer srv(app, options);
    RawConnection c(srv.port());
    c.send("POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly-part");
    auto start = std::chrono::steady_clock::now();
    CHECK(c.wait_closed());
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(4));
}

TEST_CASE("a throwing handler answers 500 and the server keeps serving", "[server][errors]") {
    App app = quiet_app();
    add_basic_routes(app);
    app.get("/boom", [](Request&, Response&) { throw std::runtime_error("secret detail"); });
    app.get("/boom-async", [](Request&, Response&) -> Task<> {
        co_await sleep_for(std::chrono::milliseconds(1));
        throw 42;  // not even a std::exception
    });
    TestServer srv(app);
    RawConnection c(srv.port());
    for (auto path : {"/boom", "/boom-async"}) {
        c.send(get(path));
        auto r = c.read_response();
        REQUIRE(r);
        CHECK(r->result_int() == 500);
        CHECK(r->body().find("secret") == std::string::npos);
    }
    c.send(get("/"));  // same connection still usable
    auto ok = c.read_response();
    REQUIRE(ok);
    CHECK(ok->body() == "root");
}

TEST_CASE("offloaded blocking work does not stall other connections - even on one I/O thread", "[server][offload]") {
    App app;
    std::promise<void> release;
    auto released = release.get_future().share();
    app.get("/blocking", [&released](Request&, Response& res) -> Task<> {
        co_await spur::offload([&released] { released.wait(); });
        res.send("unblocked");
    });
    app.get("/fast", [](Request&, Response& res) { res.send("fast"); });
    auto options = test_options();
    options.threads = 1;
    TestServer srv(app, options);

    RawConnection blocked(srv.port());
    blocked.send(get("/blocking"));
    // If the blocking call held the only I/O thread, this read would time out.
    auto fast = round_trip(srv.port(), get("/fast"));
    REQUIRE(fast);
    CHECK(fast->body() == "fast");
    release.set_value();
    auto slow = blocked.read_response();
    REQUIRE(slow);
    CHECK(slow->body() == "unblocked");
}

TEST_CASE("streamed responses go out chunked - or with their declared length", "[server]") {
    App app;
    app.get("/chunks", [](Request&, Response& res) {
        res.stream([](spur::BodyWriter& w) -> Task<> {
            for (int i = 0; i < 3; ++i) {
                co_await w.write("line " + std::to_string(i) + "\n");
                co_await sleep_for(std::chrono::milliseconds(5));
            }
        });
    });
    app.get("/sized", [](Request&, Response& res) {
        res.stream([](spur::BodyWriter& w) -> Task<> { co_await w.write("abcde"); }, 5);
    });
    TestServer srv(app);
    RawConnection c(srv.port());
    c.send(get("/chunks"));
    auto r = c.read_response();
    REQUIRE(r);
    CHECK((*r)["Transfer-Encoding"] == "chunked");
    CHECK(r->body() == "line 0\nline 1\nline 2\n");
    c.send(get("/sized"));
    auto s = c.read_response();
    REQUIRE(s);
    CHECK((*s)["Content-Length"] == "5");
    CHECK(s->body() == "abcde");
}

TEST_CASE("absolute-form targets are routed by their path", "[server]") {
    App app;
    add_basic_routes(app);
    TestServer srv(app);
    auto r = round_trip(srv.port(), "GET http://t/echo?v=abs HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(r);
    CHECK(r->body() == "abs");
}

TEST_CASE("graceful shutdown finishes in-flight requests - closes idle ones - then returns", "[server][shutdown]") {
    App app;
    app.get("/work", [](Request&, Response& res) -> Task<> {
        co_await sleep_for(std::chrono::milliseconds(400));
        res.send("finished");
    });
    app.get("/", [](Request&, Response& res) { res.send("root"); });
    TestServer srv(app);
    const auto port = srv.port();

    RawConnection idle(port);
    idle.send(get("/"));
    REQUIRE(idle.read_response());

    RawConnection busy(port);
    busy.send(get("/work"));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the request is in flight

    auto start = std::chrono::steady_clock::now();
    std::thread stopper([&] { srv.stop(); });
    CHECK(idle.wait_closed());  // closed right away, not after the drain
    auto r = busy.read_response();
    REQUIRE(r);
    CHECK(r->body() == "finished");
    CHECK((*r)["Connection"] == "close");
    stopper.join();
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));

    boost::asio::io_context io;
    boost::asio::ip::tcp::socket s(io);
    boost::system::error_code ec;
    s.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
    CHECK(ec);  // no longer accepting
}

TEST_CASE("drain_timeout bounds shutdown when a handler never finishes", "[server][shutdown]") {
    App app = quiet_app();
    app.get("/forever", [](Request&, Response& res) -> Task<> {
        co_await sleep_for(std::chrono::hours(1));
        res.send("never");
    });
    auto options = test_options();
    options.drain_timeout = std::chrono::milliseconds(200);
    TestServer srv(app, options);
    RawConnection c(srv.port());
    c.send(get("/forever"));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto start = std::chrono::steady_clock::now();
    srv.stop();
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    CHECK(c.wait_closed());
}

TEST_CASE("a buffered response larger than the socket buffer arrives whole and in order", "[server]") {
    // The first part leaves in one non-blocking write, the rest asynchronously once the
    // client reads: the bytes must join up exactly.
    std::string big(4 * 1024 * 1024, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
    App app = quiet_app();
    app.get("/big", [&big](Request&, Response& res) { res.send(big); });
    add_basic_routes(app);
    TestServer srv(app);
    RawConnection c(srv.port());
    c.send(get("/big") + get("/echo?v=after"));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let the server's send buffer fill
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->body().size() == big.size());
    CHECK(r->body() == big);
    auto next = c.read_response();
    REQUIRE(next);
    CHECK(next->body() == "after");
}
