// @NAME@'s server: the routes of routes.cpp on $HOST:$PORT (default 0.0.0.0:3000) — or on the
// sockets handed over by `spur dev` or systemd's socket activation, which replace HOST/PORT.
#include "routes.hpp"

#include <spur/spur.hpp>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

// A setting from the environment; `fallback` when it is unset or empty.
std::string setting(const char* name, const char* fallback) {
    const char* value = std::getenv(name);
    return value && *value ? value : fallback;
}

}  // namespace

int main() {
    spur::ServerOptions options;
    options.host = setting("HOST", "0.0.0.0");
    const std::string port = setting("PORT", "3000");
    unsigned value = 0;
    auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (error != std::errc() || end != port.data() + port.size() || value > 65535) {
        std::fprintf(stderr, "PORT must be a number from 0 to 65535 (0 picks a free port), not '%s'\n", port.c_str());
        return 2;
    }
    options.port = static_cast<unsigned short>(value);

    spur::App app;
    add_routes(app);
    app.listen(options);  // until SIGINT or SIGTERM, then finishes the requests in flight
}
