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
    // What a client can reach, read from the sockets (systemd's too, whatever options.host
    // says), protocols included: h2c is not discoverable from outside.
    for (const auto& url : server.urls()) {
        std::string_view protocols;
        if (url.rfind("http://", 0) == 0 && SPUR_HAS_HTTP2 && options.http2.cleartext) protocols = " (HTTP/1.1 and h2c)";
        if (url.rfind("https://", 0) == 0 && SPUR_HAS_HTTP2 && options.http2.tls) protocols = " (HTTP/1.1 and h2)";
        log()(LogLevel::info, fmt::format("listening on {}{}", url, protocols));
    }
    server.run();
}

}  // namespace spur
