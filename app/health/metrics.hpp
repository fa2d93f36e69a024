#pragma once
// spur-app's Prometheus metrics: spur's registry with the request middleware, the database
// pool's gauges and, once a server is watched, its connection counters.

#include <spur/metrics.hpp>
#include <spur/mysql/pool.hpp>
#include <spur/server.hpp>

namespace app {

class Metrics {
public:
    /// Registers the request metrics and `pool`'s gauges; the pool must outlive this.
    explicit Metrics(const spur::mysql::Pool& pool);
    /// spur::middleware::metrics() on this registry.
    spur::Middleware middleware();
    /// Adds the server's connection counters; the server must outlive every exposition.
    void watch(const spur::Server& server) { spur::collect_server_metrics(registry_, server); }
    spur::MetricsRegistry& registry() noexcept { return registry_; }

private:
    spur::MetricsRegistry registry_;
};

}  // namespace app
