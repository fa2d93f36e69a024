#pragma once
// The admin listener (METRICS_LISTEN): /metrics, /healthz and /readyz on an address of their
// own, so that Prometheus and probes reach them while the public port does not show metrics.

#include "services.hpp"

#include <spur/app.hpp>
#include <spur/server.hpp>

#include <memory>
#include <string>
#include <thread>

namespace app::health {

/// Serves the admin routes on one thread of its own until destroyed.
class AdminListener {
public:
    /// Binds `host`:`port` (port 0 picks a free one) and starts serving. Throws
    /// std::system_error when the address cannot be bound.
    /// Its /readyz follows `public_app`'s drain.
    AdminListener(Services& s, const spur::App& public_app, const std::string& host, unsigned short port);
    /// Shuts the listener down and waits for its thread.
    ~AdminListener();
    AdminListener(const AdminListener&) = delete;
    AdminListener& operator=(const AdminListener&) = delete;

    unsigned short port() const noexcept { return port_; }

private:
    spur::App app_;
    std::unique_ptr<spur::Server> server_;
    unsigned short port_ = 0;
    std::thread thread_;
};

}  // namespace app::health
