#include "health/handlers.hpp"

#include "health/repository.hpp"

#include <spur/health/health.hpp>

namespace app::health {

spur::Handler readiness(Services& s, const spur::App* follow) {
    spur::ReadinessOptions options;
    options.checks.push_back({"database", [&s] { return ping(s.db); }});
    options.timeout = std::chrono::seconds(2);
    options.follow = follow;
    return spur::readiness(std::move(options));
}

spur::Handler metrics(Services& s) { return spur::metrics_handler(s.metrics.registry()); }

spur::Handler public_metrics(Services& s) {
    return [&s, inner = metrics(s)](spur::Request& req, spur::Response& res) {
        if (!s.config.public_metrics) throw spur::HttpError(404, "Not Found");
        inner.sync()(req, res);
    };
}

}  // namespace app::health
