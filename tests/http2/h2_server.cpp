// The server test_h2.py drives with independent HTTP/2 clients (python-h2, curl): spur's public
// API only, with flags that lower the limits under test. Prints "PORT <plain> TLS <tls-or-0>"
// once listening; SIGTERM drains (ServerOptions::handle_signals). Routes are listed in main().
#include <spur/app.hpp>
#include <spur/middleware/access_log.hpp>
#include <spur/server.hpp>
#include <spur/sse/sse.hpp>
#include <spur/websocket.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/system/system_error.hpp>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace {

namespace net = boost::asio;
using std::chrono::milliseconds;

/// What the tests read back through GET /stats.
struct Counters {
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> hang_started{0};
    std::atomic<std::uint64_t> hang_cancelled{0};
    std::atomic<std::uint64_t> hold_started{0};
    std::atomic<std::uint64_t> hold_cancelled{0};
    std::atomic<std::uint64_t> slow_started{0};
    std::atomic<std::uint64_t> persist_started{0};
    std::atomic<std::uint64_t> persist_done{0};
    std::mutex mutex;
    std::map<std::string, std::uint64_t> finished;  // "<path> <status>" as the finish hooks saw it

    boost::json::object snapshot() {
        boost::json::object seen;
        {
            std::lock_guard lock(mutex);
            for (const auto& [key, n] : finished) seen[key] = n;
        }
        return {{"requests", requests.load()},         {"hang_started", hang_started.load()},
                {"hang_cancelled", hang_cancelled.load()}, {"hold_started", hold_started.load()},
                {"hold_cancelled", hold_cancelled.load()}, {"slow_started", slow_started.load()},
                {"persist_started", persist_started.load()}, {"persist_done", persist_done.load()},
                {"finished", std::move(seen)}};
    }
};

std::uint64_t query_number(const spur::Request& req, std::string_view key, std::uint64_t fallback,
                           std::uint64_t max = 64u << 20) {
    auto text = req.query(key);
    std::uint64_t n = fallback;
    if (text) std::from_chars(text->data(), text->data() + text->size(), n);
    return n < max ? n : max;
}

/// Sleeps `d` on the handler's executor; a cancelled handler (stream reset, client gone)
/// sees operation_aborted, counted in `cancelled` when given, and rethrown.
spur::Task<> pause(milliseconds d, std::atomic<std::uint64_t>* cancelled = nullptr) {
    net::steady_timer timer(co_await net::this_coro::executor, d);
    try {
        co_await timer.async_wait(net::use_awaitable);
    } catch (const boost::system::system_error& e) {
        if (cancelled && e.code() == net::error::operation_aborted) ++*cancelled;
        throw;
    }
}

/// `n` bytes of "abcd…z" repeated: the client rebuilds the same and compares.
std::string pattern(std::uint64_t n) {
    std::string out(n, '\0');
    for (std::uint64_t i = 0; i < n; ++i) out[i] = static_cast<char>('a' + i % 26);
    return out;
}

void add_routes(spur::App& app, Counters& counters) {
    app.get("/", [](spur::Request&, spur::Response& res) { res.send("hello"); });
    app.get("/version", [](spur::Request& req, spur::Response& res) { res.send(std::to_string(req.version())); });
    app.get("/whoami", [](spur::Request& req, spur::Response& res) {
        boost::json::object headers;
        for (const auto& field : req.headers()) headers[std::string(field.name_string())] = field.value();
        res.json({{"version", req.version()},        {"method", req.method()},
                  {"target", req.target()},          {"host", req.header("Host")},
                  {"protocol", req.protocol()},      {"headers", std::move(headers)}});
    });
    // Headers an HTTP/2 response must not carry, set by a handler written for HTTP/1.1.
    app.get("/connection-headers", [](spur::Request&, spur::Response& res) {
        res.set("Connection", "keep-alive").set("Keep-Alive", "timeout=5").set("X-Mixed-Case", "yes").send("ok");
    });
    app.post("/echo", [](spur::Request& req, spur::Response& res) { res.type("bin").send(req.body()); })
        .body_limit(16u << 20);
    // Reads slowly (ms per chunk): the client can only send as fast as the stream's window opens.
    app.post("/count", [](spur::Request& req, spur::Response& res) -> spur::Task<> {
           const auto delay = milliseconds(query_number(req, "ms", 2, 1000));
           std::uint64_t total = 0;
           for (;;) {
               auto chunk = co_await req.read_body_chunk();
               if (chunk.empty()) break;
               total += chunk.size();
               co_await pause(delay);
           }
           res.send(std::to_string(total));
       })
        .stream_body()
        .body_limit(64u << 20);
    // Never reads its body: the stream's window must stay shut.
    app.post("/hold", [&counters](spur::Request&, spur::Response& res) -> spur::Task<> {
           ++counters.hold_started;
           co_await pause(std::chrono::minutes(10), &counters.hold_cancelled);
           res.send("held");
       })
        .stream_body();
    app.get("/big", [](spur::Request& req, spur::Response& res) {
        const auto bytes = query_number(req, "bytes", 0);
        const auto chunk = query_number(req, "chunk", 0, 1u << 20);
        if (chunk == 0) return void(res.type("bin").send(pattern(bytes)));
        res.type("bin").stream([bytes, chunk](spur::BodyWriter& out) -> spur::Task<> {
            const std::string piece = pattern(bytes);  // the same bytes as the buffered form
            for (std::uint64_t at = 0; at < bytes; at += chunk)
                co_await out.write(std::string_view(piece).substr(at, chunk));
        });
    });
    app.get("/sse", [](spur::Request& req, spur::Response& res) {
        const auto n = query_number(req, "n", 3, 100'000);
        const auto gap = milliseconds(query_number(req, "ms", 10, 10'000));
        spur::SseOptions options;
        options.keep_alive = milliseconds(0);  // only the events, so the client can count frames
        spur::sse(req, res, options, [n, gap](spur::EventStream& stream) -> spur::Task<> {
            for (std::uint64_t i = 1; i <= n; ++i) {
                spur::Event event;
                event.id = std::to_string(i);
                event.data = "event " + std::to_string(i);
                co_await stream.send(event);
                if (i < n) co_await pause(gap);
            }
        });
    });
    app.get("/hang", [&counters](spur::Request&, spur::Response& res) -> spur::Task<> {
        ++counters.hang_started;
        co_await pause(std::chrono::minutes(10), &counters.hang_cancelled);
        res.send("woke");
    });
    app.get("/slow", [&counters](spur::Request& req, spur::Response& res) -> spur::Task<> {
        ++counters.slow_started;
        co_await pause(milliseconds(query_number(req, "ms", 100, 60'000)));
        res.send("slow");
    });
    // Runs to completion whatever the client does (a reset does not cancel it).
    app.get("/persist", [&counters](spur::Request& req, spur::Response& res) -> spur::Task<> {
        ++counters.persist_started;
        co_await pause(milliseconds(query_number(req, "ms", 100, 60'000)));
        ++counters.persist_done;
        res.send("persisted");
    }).run_to_completion();
    app.get("/nocontent", [](spur::Request&, spur::Response& res) { res.status(204).end(); });
    // WebSocket needs HTTP/1.1 (no RFC 8441): over HTTP/2 its stream is reset.
    app.ws("/ws", [](spur::WebSocket&) -> spur::Task<> { co_return; });
    app.get("/stats", [&counters](spur::Request&, spur::Response& res) { res.json(counters.snapshot()); });
}

/// Counts every request, and what its finish hooks saw, by path and status.
spur::Middleware count_finishes(Counters& counters) {
    return [&counters](spur::Request& req, spur::Response& res, spur::Next next) -> spur::Task<> {
        ++counters.requests;
        res.on_finish([&counters, path = std::string(req.path())](spur::Response& r) {
            std::lock_guard lock(counters.mutex);
            ++counters.finished[path + " " + std::to_string(r.status())];
        });
        co_await next();
    };
}

using Setter = std::function<void(spur::ServerOptions&, std::uint64_t)>;

/// The numeric flags: each lowers (or raises) one server limit.
const std::map<std::string, Setter, std::less<>>& numeric_flags() {
    using O = spur::ServerOptions;
    auto u32 = [](std::uint64_t n) { return static_cast<std::uint32_t>(n); };
    static const std::map<std::string, Setter, std::less<>> flags{
        {"--threads", [](O& o, std::uint64_t n) { o.threads = static_cast<unsigned>(n); }},
        {"--max-streams", [u32](O& o, std::uint64_t n) { o.http2.max_concurrent_streams = u32(n); }},
        {"--stream-window", [u32](O& o, std::uint64_t n) { o.http2.stream_window = u32(n); }},
        {"--reset-burst", [u32](O& o, std::uint64_t n) { o.http2.reset_burst = u32(n); }},
        {"--resets-per-second", [u32](O& o, std::uint64_t n) { o.http2.resets_per_second = u32(n); }},
        {"--control-burst", [u32](O& o, std::uint64_t n) { o.http2.control_burst = u32(n); }},
        {"--control-per-second", [u32](O& o, std::uint64_t n) { o.http2.control_per_second = u32(n); }},
        {"--max-continuations", [u32](O& o, std::uint64_t n) { o.http2.max_continuations = u32(n); }},
        {"--max-header-bytes", [](O& o, std::uint64_t n) { o.max_header_bytes = n; }},
        {"--max-header-fields", [](O& o, std::uint64_t n) { o.max_header_fields = n; }},
        {"--max-request-line", [](O& o, std::uint64_t n) { o.max_request_line = n; }},
        {"--header-timeout-ms", [](O& o, std::uint64_t n) { o.header_timeout = milliseconds(n); }},
        {"--idle-timeout-ms", [](O& o, std::uint64_t n) { o.idle_timeout = milliseconds(n); }},
        {"--write-timeout-ms", [](O& o, std::uint64_t n) { o.write_timeout = milliseconds(n); }},
        {"--body-timeout-ms", [](O& o, std::uint64_t n) { o.body_timeout = milliseconds(n); }},
        {"--drain-timeout-ms", [](O& o, std::uint64_t n) { o.drain_timeout = milliseconds(n); }},
        {"--max-connections-per-ip", [](O& o, std::uint64_t n) { o.max_connections_per_ip = n; }},
    };
    return flags;
}

/// Fills `options` from argv; false (after a message) for an unknown or incomplete flag.
bool parse_flags(int argc, char** argv, spur::ServerOptions& options) {
    std::string cert, key;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
        if (flag == "--h2c") {
            options.http2.cleartext = true;
        } else if (flag == "--no-h2") {
            options.http2.tls = false;
        } else if ((flag == "--tls-cert" || flag == "--tls-key") && value) {
            (flag == "--tls-cert" ? cert : key) = value;
            ++i;
        } else if (auto it = numeric_flags().find(flag); it != numeric_flags().end() && value) {
            it->second(options, std::stoull(value));
            ++i;
        } else {
            std::fprintf(stderr, "h2_server: unknown or incomplete flag %s\n", argv[i]);
            return false;
        }
    }
    if (!cert.empty()) {
        spur::TlsOptions tls;
        tls.certificate.cert_chain_file = cert;
        tls.certificate.private_key_file = key;
        tls.port = 0;
        options.tls = std::move(tls);
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    spur::ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    if (!parse_flags(argc, argv, options)) return 2;

    Counters counters;
    spur::App app;
    spur::middleware::AccessLogOptions access;
    access.format = spur::middleware::AccessLogFormat::combined;  // says "HTTP/2.0" for a stream
    app.use(spur::middleware::access_log(access));
    app.use(count_finishes(counters));
    add_routes(app, counters);

    spur::Server server(app, options);
    server.start();
    std::printf("PORT %u TLS %u\n", server.port(), server.tls_port());
    std::fflush(stdout);
    server.run();
    return 0;
}
