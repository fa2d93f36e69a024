#pragma once
// spur::App — the application: global middleware, routes, error handling; runs without sockets.

#include <spur/handler.hpp>
#include <spur/log.hpp>
#include <spur/router.hpp>

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

namespace spur {

struct ServerOptions;
namespace detail { struct AppAccess; }

/// Settings of an App.
struct AppOptions {
    /// Where errors (unexpected exceptions, failed writes) are reported.
    LogSink log = stderr_log_sink();
};

/// The application. Register middleware and routes, then listen() — or call
/// handle() directly, as the in-process test client does. Registration is
/// frozen once the app starts serving; adding a route after that throws.
class App : public RouteMethods<App> {
public:
    explicit App(AppOptions options = {});
    ~App();
    App(const App&) = delete;
    App& operator=(const App&) = delete;
    /// Movable: the routes and middleware live behind a stable pointer. Not while serving.
    App(App&&) noexcept;
    App& operator=(App&&) noexcept;

    /// Adds global middleware: runs for every request, in registration order,
    /// before routing decides (so it also sees 404 and 405).
    App& use(Middleware middleware);
    /// Adds `router`'s routes under `prefix`. Throws std::logic_error on a route conflict.
    App& mount(std::string_view prefix, const Router& router);
    /// Replaces the error renderer (default: the JSON error body).
    App& on_error(ErrorHandler handler);

    /// Registers a route; see RouteMethods. Throws std::logic_error once serving has started.
    RouteConfig add_route(std::string_view method, std::string_view path, std::vector<Middleware> middleware,
                          Handler handler);

    /// Runs the whole pipeline for one request: routing, middleware, handler, errors.
    /// Never throws: every failure ends up as an error response.
    Task<> handle(Request& req, Response& res);

    /// Serves on `port` on all interfaces until SIGINT/SIGTERM, then drains and returns.
    void listen(unsigned short port);
    /// Serves with full control over limits, threads and timeouts; see ServerOptions.
    void listen(const ServerOptions& options);

    /// The log sink from AppOptions.
    const LogSink& log() const noexcept;

    struct Impl;

private:
    friend struct detail::AppAccess;  // the server and the test client reach the internals
    std::unique_ptr<Impl> impl_;
};

}  // namespace spur
