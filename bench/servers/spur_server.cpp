// spur on the benchmark endpoints: /plaintext and /json as in the bare Beast server, plus the
// routed scenario — a two-parameter route among 100 routes behind request id, CORS and an
// access log written to /dev/null; and a WebSocket echo on /ws/echo.
// Run: spur_server PORT [THREADS]
#include <spur/middleware/access_log.hpp>
#include <spur/middleware/cors.hpp>
#include <spur/middleware/request_id.hpp>
#include <spur/spur.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
    spur::App app;
    app.get("/plaintext", [](spur::Request&, spur::Response& res) {
        res.set("Content-Type", "text/plain");
        res.send("Hello, World!");
    });
    app.get("/json", [](spur::Request&, spur::Response& res) { res.json({{"message", "Hello, World!"}}); });

    // The routed scenario lives under /r so its middleware does not touch /json.
    std::FILE* devnull = std::fopen("/dev/null", "w");
    spur::Router routed;
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
    app.mount("/r", routed);  // 98 + 2 = 100 routes here, 102 in the app

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
    app.listen(options);
}
