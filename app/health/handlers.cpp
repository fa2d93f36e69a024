#include "health/handlers.hpp"

#include "health/contract.hpp"
#include "health/repository.hpp"

#include <spur/contract.hpp>

namespace app::health {

spur::Handler healthz() {
    return [](spur::Request&, spur::Response& res) { res.json(HealthStatus{"ok"}); };
}

// Mounted behind middleware::timeout, which answers 503 if the database hangs.
spur::Handler readyz(Services& s) {
    return [&s](spur::Request&, spur::Response& res) -> spur::Task<> {
        bool ready = true;
        try {
            co_await ping(s.db);
        } catch (const std::exception&) {
            ready = false;  // the database is unreachable: exactly what this endpoint reports
        }
        if (ready) {
            res.json(HealthStatus{"ready"});
        } else {
            res.status(503).json(HealthStatus{"unavailable"});
        }
    };
}

spur::Handler metrics(Services& s) {
    return [&s](spur::Request&, spur::Response& res) {
        res.type("text/plain; version=0.0.4; charset=utf-8").send(s.metrics.render(s.db.stats()));
    };
}

spur::Handler public_metrics(Services& s) {
    return [&s, inner = metrics(s)](spur::Request& req, spur::Response& res) {
        if (!s.config.public_metrics) throw spur::HttpError(404, "Not Found");
        inner.sync()(req, res);
    };
}

}  // namespace app::health
