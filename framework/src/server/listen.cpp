// App::listen lives with the server, so that the core (app.cpp) never includes it.
#include <spur/app.hpp>
#include <spur/server.hpp>

#include <fmt/core.h>

namespace spur {

void App::listen(unsigned short port) {
    ServerOptions options;
    options.port = port;
    listen(options);
}

void App::listen(const ServerOptions& options) {
    Server server(*this, options);
    server.start();
    // What a client can reach, protocols included: h2c is not discoverable from outside.
    if (options.plain && server.port() != 0)
        log()(LogLevel::info, fmt::format("listening on http://{}:{}{}", options.host, server.port(),
                                          SPUR_HAS_HTTP2 && options.http2.cleartext ? " (HTTP/1.1 and h2c)" : ""));
    if (server.tls_port() != 0)
        log()(LogLevel::info, fmt::format("listening on https://{}:{}{}", options.host, server.tls_port(),
                                          SPUR_HAS_HTTP2 && options.http2.tls ? " (HTTP/1.1 and h2)" : ""));
    if (!options.unix_path.empty()) log()(LogLevel::info, fmt::format("listening on unix:{}", options.unix_path));
    server.run();
}

}  // namespace spur
