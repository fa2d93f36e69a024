#pragma once
// spur::App — the application: global middleware, routes, error handling; runs without sockets.

#include <spur/handler.hpp>
#include <spur/log.hpp>
#include <spur/openapi.hpp>
#include <spur/router.hpp>
#include <spur/views.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace spur {

struct ServerOptions;
namespace detail { struct AppAccess; }

/// Settings of an App.
struct AppOptions {
    /// Where errors (unexpected exceptions, failed writes) are reported.
    LogSink log = stderr_log_sink();
    /// The status of a ValidationError (typed inputs that fail their contract): 422, as
    /// FastAPI answers; 400 for clients that expect it. Malformed JSON stays 400, a wrong
    /// Content-Type 415, an oversized body 413.
    int validation_status = 422;
};

/// The application. Register middleware and routes, then listen() — or call
/// handle() directly, as the in-process test client does. It has no sockets: the server
/// turns bytes into a Request and hands it to handle() or refuse(). Registration is frozen
/// once the app starts serving; adding a route after that throws.
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

    /// Serves the OpenAPI 3.1 document of every route at options.path, and the interactive
    /// page at options.docs_path when options.docs_assets is set (std::invalid_argument if
    /// that is not a directory holding Swagger UI). The document is built when the app
    /// freezes, from the routes registered by then. Both routes are left out of the document.
    App& openapi(OpenApiOptions options);
    /// Builds the OpenAPI document now, from the routes registered so far.
    boost::json::value openapi_document() const;
    /// Renders pages from templates (res.render, like Express's app.set("views")). Throws
    /// std::invalid_argument if options.dir is not a directory, std::logic_error once serving.
    App& views(ViewOptions options);
    /// The views set with views(options), for rendering outside a response (an e-mail body).
    /// Throws std::logic_error if none were set.
    const Views& views() const;

    /// Every registered route, in registration order.
    std::vector<RouteInfo> routes() const;

    /// Runs `task` every `interval` while a server serves this app, the first time one interval
    /// after it starts; runs never overlap. A run that throws is logged (with `name`) and the
    /// next one still happens. On shutdown the task is cancelled — Asio's terminal
    /// cancellation, so the operation it awaits fails with operation_aborted — and awaited
    /// within the drain deadline. Throws std::invalid_argument for a non-positive interval and
    /// std::logic_error once serving has started (use spawn() then).
    App& every(std::chrono::milliseconds interval, std::function<Task<>()> task, std::string name = "");
    /// Starts `task` in the background, tracked like every(): cancelled and awaited on
    /// shutdown, an exception logged, never lost. Queued until serving starts; thread-safe, so
    /// a handler may call `req.app().spawn(...)`. Returns false, without running it, once the
    /// app is stopping.
    bool spawn(std::function<Task<>()> task, std::string name = "");
    /// Whether a drain has begun; spur::readiness() answers 503 from that moment.
    bool draining() const noexcept;

    // The server's side of the lifecycle (tests may call these too).
    /// Starts the background tasks on strands of `executor`. Server::start() calls it.
    void start_background(const boost::asio::any_io_executor& executor);
    /// Marks the app as draining. Server::shutdown() calls it first, before drain_delay.
    void begin_drain() noexcept;
    /// Cancels the background tasks, ends open event streams with their final event, and
    /// calls `done` (from any thread) once every background task has finished. The server
    /// calls it when it stops accepting.
    void stop_background(std::function<void()> done);

    /// Registers a route; see RouteMethods. Throws std::logic_error once serving has started.
    RouteConfig add_route(std::string_view method, std::string_view path, std::vector<Middleware> middleware,
                          Handler handler);

    /// Ends setup: from now on routes, middleware and the error handler cannot change (they
    /// throw std::logic_error) and are read without locks. Server::start() and
    /// testing::Client call it; calling it again does nothing. Throws std::logic_error if a
    /// handler's spur::Path<T> does not fit its route's parameters.
    void freeze();

    /// Runs the whole pipeline for one request: routes it (once), then global middleware,
    /// route middleware, the handler, and the error handler for whatever they throw. Never
    /// throws: every failure ends up as an error response. The finish hooks are not run here
    /// but by whoever writes the response, after the write.
    Task<> handle(Request& req, Response& res);
    /// Answers a request the server refused before routing — a malformed or oversized
    /// header, framing it does not accept — with `error`: global middleware run as for any
    /// request (so access logs and metrics see it), then the same error rendering and
    /// on_error handler. `req` may be nearly empty (no method or path) when the request
    /// line itself could not be read. Never throws.
    Task<> refuse(Request& req, Response& res, const HttpError& error);

    /// Serves on `port` on all interfaces until SIGINT/SIGTERM, then drains and returns.
    /// Defined with the server (server/listen.cpp).
    void listen(unsigned short port);
    /// Serves with full control over limits, threads and timeouts; see ServerOptions.
    void listen(const ServerOptions& options);

    /// The log sink from AppOptions.
    const LogSink& log() const noexcept;

    struct Impl;

private:
    friend struct detail::AppAccess;
    Task<> run(Request& req, Response& res, const HttpError* refusal);
    std::unique_ptr<Impl> impl_;
};

}  // namespace spur
