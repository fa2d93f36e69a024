// The server's connection counters as metrics, read at each exposition.
#include <spur/metrics.hpp>

#include <spur/server.hpp>

namespace spur {

void collect_server_metrics(MetricsRegistry& registry, const Server& server) {
    const Server* s = &server;
    registry.gauge_function("http_connections_open", "Open client connections.",
                            [s] { return static_cast<double>(s->stats().open_connections); });
    registry.counter_function("http_connections_refused_total",
                              "Connections closed at accept: max_connections or max_connections_per_ip reached.",
                              [s] { return static_cast<double>(s->stats().refused_connections); });
    registry.counter_function("http_connections_shed_total",
                              "Idle keep-alive connections closed to admit new ones at max_connections.",
                              [s] { return static_cast<double>(s->stats().shed_connections); });
    registry.gauge_function("websocket_sessions_open", "Connections speaking WebSocket.",
                            [s] { return static_cast<double>(s->stats().websocket_sessions); });
    registry.gauge_function("http_request_body_buffered_bytes",
                            "Request-body buffer bytes held now (limit: max_buffered_body_bytes).",
                            [s] { return static_cast<double>(s->stats().buffered_body_bytes); });
}

}  // namespace spur
