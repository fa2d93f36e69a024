#include <spur/middleware/metrics.hpp>

#include <spur/app.hpp>
#include <spur/testing/client.hpp>
#include <spur/websocket.hpp>

#include "support/test_server.hpp"
#include "support/ws_client.hpp"

#include <catch2/catch.hpp>

using namespace spur;

namespace {
bool has(const std::string& text, std::string_view line) { return text.find(line) != std::string::npos; }
}  // namespace

TEST_CASE("metrics() counts requests by method, route pattern and status, with durations", "[middleware][metrics][concurrency]") {
    MetricsRegistry registry;
    App app;
    app.use(middleware::metrics(registry));
    app.get("/users/:id", [](Request&, Response& res) { res.send("u"); });
    app.post("/users", [](Request&, Response& res) { res.status(201).end(); });
    app.get("/metrics", metrics_handler(registry));
    testing::Client client(app);
    client.get("/users/1");
    client.get("/users/2");
    client.post("/users", "");
    client.get("/nowhere/1");
    client.get("/nowhere/2");
    client.request("BREW", "/users/1");
    auto r = client.get("/metrics");
    CHECK(r.status == 200);
    CHECK(r.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
    const auto& m = r.body;
    CHECK(has(m, "http_requests_total{method=\"GET\",route=\"/users/:id\",status=\"200\"} 2\n"));
    CHECK(has(m, "http_requests_total{method=\"POST\",route=\"/users\",status=\"201\"} 1\n"));
    // Every unmatched path shares one series; unknown methods share "OTHER".
    CHECK(has(m, "http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 2\n"));
    // A 405 matched no route either.
    CHECK(has(m, "http_requests_total{method=\"OTHER\",route=\"unmatched\",status=\"405\"} 1\n"));
    CHECK_FALSE(has(m, "/nowhere"));
    CHECK_FALSE(has(m, "BREW"));
    CHECK(has(m, "http_request_duration_seconds_count{route=\"/users/:id\"} 2\n"));
    CHECK(has(m, "http_request_duration_seconds_bucket{route=\"/users/:id\",le=\"+Inf\"} 2\n"));
    // The scrape itself is in flight while it renders.
    CHECK(has(m, "http_requests_in_flight 1\n"));
    CHECK(has(client.get("/metrics").body, "http_requests_total{method=\"GET\",route=\"/metrics\",status=\"200\"} 1\n"));
}

TEST_CASE("the server's connection and WebSocket gauges are read at each scrape", "[middleware][metrics][server][concurrency]") {
    MetricsRegistry registry;
    App app;
    app.use(middleware::metrics(registry));
    app.get("/metrics", metrics_handler(registry));
    app.ws("/ws", [](WebSocket& ws) -> Task<> {
        while (co_await ws.receive()) {
        }
    });
    test::TestServer srv(app);
    collect_server_metrics(registry, srv.server());
    test::RawConnection idle(srv.port());
    test::WsClient ws(srv.port(), "/ws");
    REQUIRE(test::eventually([&] {
        auto r = test::round_trip(srv.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        return r && has(r->body(), "websocket_sessions_open 1\n") && has(r->body(), "http_connections_open 3\n");
    }));
    auto r = test::round_trip(srv.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    REQUIRE(r);
    CHECK(has(r->body(), "# TYPE http_connections_refused_total counter\nhttp_connections_refused_total 0\n"));
    CHECK(has(r->body(), "http_connections_shed_total 0\n"));
    // The upgrade counts as a request of its route, with status 101.
    CHECK(has(r->body(), "http_requests_total{method=\"GET\",route=\"/ws\",status=\"101\"} 1\n"));
}
