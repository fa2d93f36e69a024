#include "health/metrics.hpp"

#include <spur/middleware/metrics.hpp>
#include <spur/mysql/metrics.hpp>

namespace app {

Metrics::Metrics(const spur::mysql::Pool& pool) {
    middleware();  // the request series come first in the exposition, as they always have
    spur::mysql::collect_pool_metrics(registry_, pool);
}

spur::Middleware Metrics::middleware() { return spur::middleware::metrics(registry_); }

}  // namespace app
