#include <spur/mysql/metrics.hpp>

namespace spur::mysql {

void collect_pool_metrics(MetricsRegistry& registry, const Pool& pool) {
    auto& connections = registry.gauge("db_pool_connections", "Database connections by state.", {"state"});
    auto& in_use = connections.labels({"in_use"});
    auto& idle = connections.labels({"idle"});
    auto& draining = connections.labels({"draining"});
    auto& waiting = registry.gauge("db_pool_waiting", "Requests waiting for a database connection.").get();
    registry.on_collect([&pool, &in_use, &idle, &draining, &waiting] {
        const auto s = pool.stats();
        in_use.set(static_cast<double>(s.in_use));
        idle.set(static_cast<double>(s.idle));
        draining.set(static_cast<double>(s.draining));
        waiting.set(static_cast<double>(s.waiting));
    });
    registry.counter_function("db_pool_abandoned_total", "Statements left running by a cancelled caller.",
                              [&pool] { return static_cast<double>(pool.stats().abandoned); });
    registry.counter_function("db_pool_abandoned_closed_total",
                              "Connections of abandoned statements closed instead of drained and kept.",
                              [&pool] { return static_cast<double>(pool.stats().abandoned_closed); });
    registry.counter_function("db_pool_kill_queries_total", "KILL QUERYs sent for abandoned or timed-out statements.",
                              [&pool] { return static_cast<double>(pool.stats().kills); });
    registry.counter_function("db_pool_kill_queries_refused_total",
                              "KILL QUERYs not sent: the admin connection's queue was full, or the KILL failed.",
                              [&pool] { return static_cast<double>(pool.stats().kills_refused); });
}

}  // namespace spur::mysql
