// spur on the benchmark endpoints: /plaintext and /json as in the bare Beast server, plus the
// routed scenario — a two-parameter route among 100 routes behind request id, CORS and an
// access log written to /dev/null; a WebSocket echo on /ws/echo; and the typed-body scenario:
// POST /typed (spur::Body<Note>) against POST /untyped, the same checks walked by hand over
// Boost.JSON, answering the same bytes. For the HTTP/2 rows, --h2c also serves h2c by prior
// knowledge on PORT, and --tls serves HTTPS (h2 by ALPN, else HTTP/1.1) on TLS_PORT.
// Run: spur_server PORT [THREADS [--h2c] [--tls TLS_PORT CERT_PEM KEY_PEM]]
#include <spur/middleware/access_log.hpp>
#include <spur/middleware/cors.hpp>
#include <spur/middleware/metrics.hpp>
#include <spur/middleware/request_id.hpp>
#include <spur/metrics.hpp>
#include <spur/spur.hpp>

#include <boost/describe.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

struct Note {
    spur::String<1, 255> title;
    std::string content;
    spur::List<spur::String<1, 20>, 0, 5> tags;
    spur::Int<1, 5> priority;
};
BOOST_DESCRIBE_STRUCT(Note, (), (title, content, tags, priority))

namespace {
std::size_t characters(std::string_view s) {
    std::size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

// What a careful handler without spur::Body does: every check of Note, by hand.
std::string hand_parsed_title(const spur::Request& req) {
    auto bad = [] { return spur::HttpError(422, "validation_error", "invalid note"); };
    const auto type = req.header("Content-Type");
    if (type.substr(0, type.find(';')) != "application/json") throw spur::HttpError(415, "Expected JSON");
    const auto& v = req.json();
    if (!v.is_object()) throw bad();
    const auto& o = v.get_object();
    for (const auto& kv : o)
        if (kv.key() != "title" && kv.key() != "content" && kv.key() != "tags" && kv.key() != "priority") throw bad();
    auto title = o.find("title"), content = o.find("content"), tags = o.find("tags"), priority = o.find("priority");
    if (title == o.end() || !title->value().is_string() || characters(title->value().get_string()) < 1 ||
        characters(title->value().get_string()) > 255)
        throw bad();
    if (content == o.end() || !content->value().is_string()) throw bad();
    if (tags == o.end() || !tags->value().is_array() || tags->value().get_array().size() > 5) throw bad();
    for (const auto& t : tags->value().get_array()) {
        if (!t.is_string() || characters(t.get_string()) < 1 || characters(t.get_string()) > 20) throw bad();
        std::string copy(t.get_string());  // the typed route stores the tags too
    }
    if (priority == o.end() || !priority->value().is_int64() || priority->value().get_int64() < 1 ||
        priority->value().get_int64() > 5)
        throw bad();
    std::string copy(content->value().get_string());
    return std::string(title->value().get_string());
}

// Request id, CORS and an access log in front of 100 routes; the benchmark requests one.
void add_routed(spur::Router& routed, std::FILE* devnull) {
    routed.use(spur::middleware::request_id());
    spur::middleware::CorsOptions cors;
    cors.origins = {"*"};
    routed.use(spur::middleware::cors(cors));
    spur::middleware::AccessLogOptions log;
    log.format = spur::middleware::AccessLogFormat::combined;
    log.sink = [devnull](std::string_view line) { std::fwrite(line.data(), 1, line.size(), devnull); };
    routed.use(spur::middleware::access_log(log));
    for (int i = 0; i < 49; ++i) {
        routed.get("/resource" + std::to_string(i) + "/:id", [](spur::Request&, spur::Response& res) { res.send("x"); });
        routed.post("/resource" + std::to_string(i), [](spur::Request&, spur::Response& res) { res.status(201); });
    }
    routed.get("/users/:user/posts/:post", [](spur::Request& req, spur::Response& res) {
        res.json({{"user", req.param("user")}, {"post", req.param("post")}});
    });
    routed.put("/users/:user/posts/:post", [](spur::Request&, spur::Response& res) { res.status(204); });
}
}  // namespace

int main(int argc, char** argv) {
    spur::App app;
    app.get("/plaintext", [](spur::Request&, spur::Response& res) {
        res.set("Content-Type", "text/plain");
        res.send("Hello, World!");
    });
    app.get("/json", [](spur::Request&, spur::Response& res) { res.json({{"message", "Hello, World!"}}); });

    // The routed scenario lives under /r so its middleware does not touch /json; /m is the same
    // with middleware::metrics() in front, to measure what recording every request costs.
    std::FILE* devnull = std::fopen("/dev/null", "w");
    spur::MetricsRegistry registry;
    spur::Router routed, measured;
    measured.use(spur::middleware::metrics(registry));
    for (auto* r : {&routed, &measured}) add_routed(*r, devnull);
    app.mount("/r", routed);  // 98 + 2 = 100 routes here
    app.mount("/m", measured);
    app.get("/metrics", spur::metrics_handler(registry));


    app.post("/typed", [](spur::Request&, spur::Response& res, spur::Body<Note> note) {
        res.status(201).json({{"id", 1}, {"title", note->title}});
    });
    app.post("/untyped", [](spur::Request& req, spur::Response& res) {
        res.status(201).json({{"id", 1}, {"title", hand_parsed_title(req)}});
    });

    // WebSocket echo, as the bare Beast websocket server does it.
    app.ws("/ws/echo", [](spur::WebSocket& ws) -> spur::Task<> {
        while (auto message = co_await ws.receive()) {
            if (message->binary) {
                co_await ws.send_binary(message->data);
            } else {
                co_await ws.send(message->data);
            }
        }
    });

    spur::ServerOptions options;
    options.port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 8080);
    options.threads = argc > 2 ? static_cast<unsigned>(std::atoi(argv[2])) : 1;
    options.blocking_threads = 1;
    // Every benchmark client is 127.0.0.1, and the idle test holds 10,000 connections open
    // while it makes fresh requests: the per-client and global caps would refuse them.
    options.max_connections_per_ip = 0;
    options.max_connections = 100'000;
    for (int i = 3; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (flag == "--h2c") {
            options.http2.cleartext = true;
        } else if (flag == "--tls" && i + 3 < argc) {
            spur::TlsOptions tls;
            tls.port = static_cast<unsigned short>(std::atoi(argv[++i]));
            tls.certificate.cert_chain_file = argv[++i];
            tls.certificate.private_key_file = argv[++i];
            options.tls = tls;
        } else {
            std::fprintf(stderr, "usage: spur_server PORT [THREADS [--h2c] [--tls TLS_PORT CERT_PEM KEY_PEM]]\n");
            return 2;
        }
    }
    app.listen(options);
}
