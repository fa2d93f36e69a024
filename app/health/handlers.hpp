#pragma once
// /healthz, /readyz and /metrics.

#include "services.hpp"

#include <spur/handler.hpp>

namespace app::health {

spur::Handler healthz();
/// 200 when the database answers, else 503 (mount it behind middleware::timeout).
spur::Handler readyz(Services& s);
spur::Handler metrics(Services& s);
/// metrics() on the public port: a 404 unless the operator set PUBLIC_METRICS=1.
spur::Handler public_metrics(Services& s);

}  // namespace app::health
