#pragma once
// /readyz and /metrics (/healthz is spur::liveness()).

#include "services.hpp"

#include <spur/app.hpp>
#include <spur/handler.hpp>

namespace app::health {

/// spur::readiness() with one check, "database" (a round trip within 2 s): 503 when it fails
/// or once `follow` (the public app; null: the app serving the probe) begins to drain.
spur::Handler readiness(Services& s, const spur::App* follow = nullptr);
spur::Handler metrics(Services& s);
/// metrics() on the public port: a 404 unless the operator set PUBLIC_METRICS=1.
spur::Handler public_metrics(Services& s);

}  // namespace app::health
