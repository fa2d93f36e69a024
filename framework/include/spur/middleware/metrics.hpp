#pragma once
// spur::middleware::metrics — Prometheus metrics of every request: count, duration, in flight.

#include <spur/handler.hpp>
#include <spur/metrics.hpp>

#include <vector>

namespace spur::middleware {

/// Options of metrics().
struct MetricsOptions {
    /// Upper bounds (seconds) of http_request_duration_seconds.
    std::vector<double> buckets = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5};
};

/// Records every request into `registry` once its response is written (or the client left:
/// status 499): http_requests_total{method,route,status}, http_request_duration_seconds{route}
/// (a histogram) and http_requests_in_flight. `route` is the matched pattern ("/users/:id"),
/// "unmatched" for 404s and refused requests; `method` is one of the nine standard methods or
/// "OTHER" — so every label value comes from the route table or a fixed set, and the series
/// are bounded by construction. Add it first (app.use) so it also sees 404, 405 and the
/// server's refusals. No lock is shared by all requests: series live in locked shards and are
/// updated with atomics. Throws std::invalid_argument if the registry holds these names
/// registered differently, or for bad buckets. The registry must outlive the middleware.
Middleware metrics(MetricsRegistry& registry, MetricsOptions options = {});

}  // namespace spur::middleware
