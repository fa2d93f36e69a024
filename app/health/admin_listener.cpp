#include "health/admin_listener.hpp"

#include "health/handlers.hpp"

#include <spur/middleware/timeout.hpp>

#include <charconv>
#include <stdexcept>

namespace app::health {

namespace {
spur::ServerOptions admin_options(const std::string& listen) {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos || colon == 0) throw std::invalid_argument("METRICS_LISTEN must be host:port, e.g. 127.0.0.1:9464");
    std::string host = listen.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    unsigned short port = 0;
    const char* first = listen.data() + colon + 1;
    const char* last = listen.data() + listen.size();
    auto [p, ec] = std::from_chars(first, last, port);
    if (ec != std::errc() || p != last || first == last) throw std::invalid_argument("METRICS_LISTEN has no valid port: " + listen);
    spur::ServerOptions o;
    o.host = std::move(host);
    o.port = port;
    // A scraper and a few probes: one I/O thread, no offload work, no signal handling (the
    // public server owns the process's shutdown).
    o.threads = 1;
    o.blocking_threads = 1;
    o.handle_signals = false;
    o.max_connections = 64;
    o.max_connections_per_ip = 0;
    return o;
}
}  // namespace

AdminListener::AdminListener(Services& s, const std::string& listen) {
    using namespace std::chrono_literals;
    app_.get("/metrics", metrics(s));
    app_.get("/healthz", healthz());
    app_.get("/readyz", spur::middleware::timeout(2s), readyz(s));
    server_ = std::make_unique<spur::Server>(app_, admin_options(listen));
    port_ = server_->start();
    thread_ = std::thread([this] { server_->run(); });
}

AdminListener::~AdminListener() {
    server_->shutdown();
    thread_.join();
}

}  // namespace app::health
