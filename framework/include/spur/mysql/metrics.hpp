#pragma once
// spur::mysql::collect_pool_metrics — a pool's connections as Prometheus gauges.

#include <spur/metrics.hpp>
#include <spur/mysql/pool.hpp>

namespace spur::mysql {

/// Adds db_pool_connections{state="in_use"|"idle"|"draining"}, db_pool_waiting (coroutines
/// waiting for a connection) and the counters db_pool_abandoned_total,
/// db_pool_abandoned_closed_total, db_pool_kill_queries_total and
/// db_pool_kill_queries_refused_total to `registry`, read from `pool.stats()` at each exposition. The pool must
/// outlive every exposition. Throws std::invalid_argument if the names are taken differently.
void collect_pool_metrics(MetricsRegistry& registry, const Pool& pool);

}  // namespace spur::mysql
