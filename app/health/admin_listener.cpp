#include "health/admin_listener.hpp"

#include "health/handlers.hpp"

#include <spur/health/health.hpp>

namespace app::health {

namespace {
spur::ServerOptions admin_options(const std::string& host, unsigned short port) {
    spur::ServerOptions o;
    o.host = host;
    o.port = port;
    // A scraper and a few probes: one I/O thread, no offload work, no signal handling (the
    // public server owns the process's shutdown).
    o.threads = 1;
    o.blocking_threads = 1;
    o.handle_signals = false;
    o.systemd = false;  // READY/STOPPING and the watchdog speak for the public server's loop
    o.max_connections = 64;
    o.max_connections_per_ip = 0;
    return o;
}
}  // namespace

AdminListener::AdminListener(Services& s, const spur::App& public_app, const std::string& host, unsigned short port) {
    app_.get("/metrics", metrics(s));
    app_.get("/healthz", spur::liveness());
    app_.get("/readyz", readiness(s, &public_app));
    server_ = std::make_unique<spur::Server>(app_, admin_options(host, port));
    port_ = server_->start();
    thread_ = std::thread([this] { server_->run(); });
}

AdminListener::~AdminListener() {
    server_->shutdown();
    thread_.join();
}

}  // namespace app::health
