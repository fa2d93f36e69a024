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
    unsigned short port = server.start();
    log()(LogLevel::info, fmt::format("listening on http://{}:{}", options.host, port));
    server.run();
}

}  // namespace spur
