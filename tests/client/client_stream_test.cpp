// HttpClient::open against spur servers on real loopback sockets: a body read as it is written
// (chunks, NDJSON lines, server-sent events), backpressure, the limits, cancellation.
#include <spur/http_client.hpp>

#include <spur/app.hpp>
#include <spur/sse.hpp>

#include "client/harness.hpp"
#include "client/sse_parser.hpp"
#include "support/eventually_async.hpp"
#include "support/test_server.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

#include <atomic>

using namespace spur;
using Kind = HttpClientError::Kind;
namespace net = boost::asio;
using test::Io;
using test::run;

namespace {

// What the test tells the server, and what the server tells the test.
struct Signals {
    std::atomic<bool> client_has_first{false};
    std::atomic<std::size_t> flood_written{0};
};

Task<> pause(std::chrono::milliseconds d) {
    net::steady_timer t(co_await net::this_coro::executor, d);
    co_await t.async_wait(net::use_awaitable);
}

App streaming_service(Signals& signals) {
    App app(AppOptions{.log = [](LogLevel, std::string_view) {}});
    // "one", then "two" only once the client says it has "one" (or 5 s): a client that waited
    // for the whole body would see both at once.
    app.get("/drip", [&signals](Request&, Response& res) {
        res.stream([&signals](BodyWriter& w) -> Task<> {
            co_await w.write("one");
            auto told = [&] { return signals.client_has_first.load(); };
            co_await test::eventually_async(told);
            co_await w.write("two");
        });
    });
    app.get("/ndjson", [](Request&, Response& res) {
        res.type("application/x-ndjson").stream([](BodyWriter& w) -> Task<> {
            co_await w.write("{\"n\"");
            co_await w.write(":1}\n{\"n\":2}\r");
            co_await w.write("\n\n{\"n\":3}");  // an empty line, then a last line without a break
        });
    });
    app.get("/events", [](Request& req, Response& res) {
        spur::sse(req, res, [](EventStream& s) -> Task<> {
            Event first{.data = "hello", .event = "greeting", .id = "1"};
            co_await s.send(first);
            co_await s.comment("keep-alive");
            Event second{.data = "two\nlines"};
            second.retry = std::chrono::milliseconds(2500);
            co_await s.send(second);
        });
    });
    // Written by hand: what a browser's EventSource must cope with.
    app.get("/raw-events", [](Request&, Response& res) {
        res.type("text/event-stream").stream([](BodyWriter& w) -> Task<> {
            co_await w.write("\xEF\xBB\xBF: a comment\r\nevent: a\r");
            co_await w.write("\ndata:no space\r\revent: a type and no data\n\n");
            co_await w.write("id: 7\ndata: x\ndata:  y\nunknown: field\n\ndata: z\n");
        });
    });
    app.get("/flood", [&signals](Request&, Response& res) {
        res.stream([&signals](BodyWriter& w) -> Task<> {
            const std::string block(64 * 1024, 'f');
            for (int i = 0; i < 512; ++i) {  // 32 MiB, more than any socket buffer holds
                co_await w.write(block);
                signals.flood_written += block.size();
            }
        });
    });
    app.get("/first-then-wait", [](Request&, Response& res) {
        res.stream([](BodyWriter& w) -> Task<> {
            co_await w.write("first");
            co_await pause(std::chrono::seconds(30));
        });
    });
    app.get("/long-line", [](Request&, Response& res) {
        res.stream([](BodyWriter& w) -> Task<> {
            const std::string block(16 * 1024, 'l');
            for (int i = 0; i < 8; ++i) co_await w.write(block);
            co_await w.write("\n");
        });
    });
    return app;
}

std::string base(test::TestServer& srv) { return "http://127.0.0.1:" + std::to_string(srv.port()); }

// The streaming service on a real socket, and the test's io_context.
struct Streaming {
    Signals signals;
    App app = streaming_service(signals);
    test::TestServer srv{app};
    Io io;
};

}  // namespace

TEST_CASE("open() returns at the header and next_chunk() hands over each piece as the server writes it",
          "[client][client_stream]") {
    Streaming f;
    HttpClient client;
    std::vector<std::string> chunks;
    run([&]() -> Task<> {
        auto stream = co_await client.open("GET", base(f.srv) + "/drip");
        CHECK(stream.status() == 200);
        CHECK(stream.header("transfer-encoding") == "chunked");
        CHECK_FALSE(stream.done());
        for (;;) {
            auto chunk = co_await stream.next_chunk();
            if (chunk.empty()) break;
            chunks.emplace_back(chunk);
            f.signals.client_has_first = true;
        }
        CHECK(stream.done());
    }());
    CHECK(chunks == std::vector<std::string>{"one", "two"});
    // Read to its end, the connection went back to the pool.
    CHECK(client.idle_connections(f.io.io) == 1);
}

TEST_CASE("next_line() reads NDJSON lines across pieces, LF or CRLF, and the last line without a break",
          "[client][client_stream]") {
    Streaming f;
    HttpClient client;
    std::vector<std::string> lines;
    run([&]() -> Task<> {
        auto stream = co_await client.open("GET", base(f.srv) + "/ndjson");
        while (auto line = co_await stream.next_line()) lines.push_back(*line);
    }());
    CHECK(lines == std::vector<std::string>{"{\"n\":1}", "{\"n\":2}", "", "{\"n\":3}"});
}

TEST_CASE("next_event() reads what spur::sse sends: type, id, multi-line data, retry, comments skipped",
          "[client][client_stream]") {
    Streaming f;
    HttpClient client;
    std::vector<Event> events;
    run([&]() -> Task<> {
        auto stream = co_await client.open("GET", base(f.srv) + "/events");
        CHECK(stream.header("content-type").starts_with("text/event-stream"));
        while (auto event = co_await stream.next_event()) events.push_back(std::move(*event));
    }());
    REQUIRE(events.size() == 2);
    CHECK(events[0].event == "greeting");
    CHECK(events[0].data == "hello");
    CHECK(events[0].id == "1");
    CHECK(events[1].event.empty());
    CHECK(events[1].data == "two\nlines");
    CHECK(events[1].id == "1");  // the last id stays, as EventSource's lastEventId does
    REQUIRE(events[1].retry);
    CHECK(events[1].retry->count() == 2500);
}

TEST_CASE("next_event() parses as a browser does: BOM, CR and CRLF, no-data events dropped, unknown fields ignored",
          "[client][client_stream]") {
    Streaming f;
    HttpClient client;
    std::vector<Event> events;
    run([&]() -> Task<> {
        auto stream = co_await client.open("GET", base(f.srv) + "/raw-events");
        while (auto event = co_await stream.next_event()) events.push_back(std::move(*event));
    }());
    REQUIRE(events.size() == 2);
    CHECK(events[0].event == "a");
    CHECK(events[0].data == "no space");
    CHECK(events[0].id.empty());
    // The event with a type and no data was dropped; the type does not carry over.
    CHECK(events[1].event.empty());
    CHECK(events[1].data == "x\n y");
    CHECK(events[1].id == "7");
    // "data: z" at the very end had no blank line after it: dropped, as EventSource drops it.
}

TEST_CASE("a stream holds one chunk at a time: a reader that stops reading stops the server's writes",
          "[client][client_stream]") {
    Streaming f;
    HttpClient client(HttpClientOptions{.max_response_bytes = 64 * 1024 * 1024, .stream_chunk_bytes = 4096});
    std::size_t largest = 0, total = 0;
    std::size_t written_while_paused = 0;
    run([&]() -> Task<> {
        auto stream = co_await client.open("GET", base(f.srv) + "/flood");
        auto first = co_await stream.next_chunk();
        largest = first.size();
        total = first.size();
        // Not reading: the server's writes must stall once the socket buffers are full.
        std::size_t seen = 0;
        auto stalled = [&] {
            const auto now = f.signals.flood_written.load();
            const bool same = now == seen;
            seen = now;
            return same && now > 0;
        };
        auto settled = test::eventually_async(stalled, std::chrono::seconds(10));
        const bool did_settle = co_await std::move(settled);  // not inside CHECK (GCC 12)
        CHECK(did_settle);
        written_while_paused = f.signals.flood_written.load();
        for (;;) {
            auto chunk = co_await stream.next_chunk();
            if (chunk.empty()) break;
            largest = std::max(largest, chunk.size());
            total += chunk.size();
        }
    }());
    CHECK(written_while_paused < 32u * 1024 * 1024);
    CHECK(largest <= 4096);
    CHECK(total == 32u * 1024 * 1024);
}

TEST_CASE("a streamed body over max_response_bytes, or a line over max_event_bytes, fails as too large",
          "[client][client_stream]") {
    Streaming f;
    HttpClient small(HttpClientOptions{.max_response_bytes = 1024 * 1024});
    std::optional<Kind> kind;
    run([&]() -> Task<> {
        auto stream = co_await small.open("GET", base(f.srv) + "/flood");
        try {
            while (!(co_await stream.next_chunk()).empty()) {
            }
        } catch (const HttpClientError& e) {
            kind = e.kind();
        }
    }());
    CHECK(kind == Kind::too_large);

    kind.reset();
    HttpClient short_lines(HttpClientOptions{.max_event_bytes = 64 * 1024});
    run([&]() -> Task<> {
        auto stream = co_await short_lines.open("GET", base(f.srv) + "/long-line");
        try {
            co_await stream.next_line();
        } catch (const HttpClientError& e) {
            kind = e.kind();
        }
        CHECK(stream.done());
    }());
    CHECK(kind == Kind::too_large);
    CHECK(short_lines.idle_connections(f.io.io) == 0);
}

TEST_CASE("cancelling the coroutine reading a stream closes the upstream connection at once",
          "[client][client_stream][concurrency]") {
    Signals signals;
    App app = streaming_service(signals);
    test::TestServer srv(app);
    net::io_context io;
    HttpClient client;  // a 30 s timeout: only the cancellation can end the wait soon
    net::cancellation_signal cancel;
    std::optional<Kind> kind;
    std::atomic<bool> got_first{false};
    net::co_spawn(io, [&]() -> Task<> {
        auto stream = co_await client.open("GET", base(srv) + "/first-then-wait");
        got_first = (co_await stream.next_chunk()) == "first";
        try {
            co_await stream.next_chunk();
        } catch (const HttpClientError& e) {
            kind = e.kind();
        }
    }, net::bind_cancellation_slot(cancel.slot(), net::detached));
    net::co_spawn(io, [&]() -> Task<> {
        auto has_first = [&] { return got_first.load(); };
        auto waiting = test::eventually_async(has_first);
        co_await std::move(waiting);
        cancel.emit(net::cancellation_type::terminal);
    }, net::detached);
    const auto start = std::chrono::steady_clock::now();
    io.run();
    CHECK(got_first);
    CHECK(kind == Kind::cancelled);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    // The server saw the client go: the connection is closed on its side too.
    CHECK(test::eventually([&] { return srv.server().stats().open_connections == 0; }));
    CHECK(client.idle_connections(io) == 0);
}

TEST_CASE("a stream dropped before its end closes its connection instead of pooling it", "[client][client_stream]") {
    Streaming f;
    HttpClient client;
    run([&]() -> Task<> {
        auto stream = co_await client.open("GET", base(f.srv) + "/first-then-wait");
        const std::string first(co_await stream.next_chunk());  // not inside CHECK (GCC 12)
        CHECK(first == "first");
        stream.close();
        CHECK(stream.done());
        const auto after = co_await stream.next_chunk();
        CHECK(after.empty());
    }());
    CHECK(client.idle_connections(f.io.io) == 0);
    CHECK(test::eventually([&] { return f.srv.server().stats().open_connections == 0; }));
}

TEST_CASE("an event's retry: past what milliseconds hold is a year, not a wrapped negative", "[client][client_stream]") {
    client::SseParser parser(1024);
    CHECK_FALSE(parser.line("data: x"));
    CHECK_FALSE(parser.line("retry: 18446744073709551615"));
    auto event = parser.line("");
    REQUIRE(event);
    REQUIRE(event->retry);
    CHECK(event->retry->count() == 365LL * 24 * 3600 * 1000);
    CHECK_FALSE(parser.line("data: y"));
    CHECK_FALSE(parser.line("retry: 12a"));  // not all digits: ignored
    event = parser.line("");
    REQUIRE(event);
    CHECK_FALSE(event->retry);
}
