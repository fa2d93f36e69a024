#include <spur/mysql/metrics.hpp>

namespace spur::mysql {

void collect_pool_metrics(MetricsRegistry& registry, const Pool& pool) {
    auto& connections = registry.gauge("db_pool_connections", "Database connections by state.", {"state"});
    auto& in_use = connections.labels({"in_use"});
    auto& idle = connections.labels({"idle"});
    auto& waiting = registry.gauge("db_pool_waiting", "Requests waiting for a database connection.").get();
    registry.on_collect([&pool, &in_use, &idle, &waiting] {
        const auto s = pool.stats();
        in_use.set(static_cast<double>(s.in_use));
        idle.set(static_cast<double>(s.idle));
        waiting.set(static_cast<double>(s.waiting));
    });
}

}  // namespace spur::mysql
