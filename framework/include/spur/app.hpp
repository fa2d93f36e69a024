#pragma once
// spur::App — the application: global middleware, routes, error handling; runs without sockets.

#include <spur/extension.hpp>
#include <spur/handler.hpp>
#include <spur/log.hpp>
#include <spur/router.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace spur {

struct ServerOptions;
class Serving;

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
/// turns bytes into a Request and hands it to handle() (see spur::Serving for the rest of a
/// transport's side). Registration is frozen once the app starts serving; adding a route
/// after that throws. Features (views, OpenAPI, background tasks) stand beside it and keep
/// their state in extensions().
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
    /// Answers an exception of type E (or derived from it) that escapes a middleware or a
    /// handler with the HttpError `map` returns — as Flask's errorhandler and FastAPI's
    /// exception_handler do — instead of the logged 500 an unexpected exception gets:
    ///
    ///     app.on_exception<db::Error>([](const db::Error& e, spur::Request&) -> std::optional<spur::HttpError> {
    ///         if (e.retryable()) return spur::HttpError(503, "service_unavailable", "Try again shortly");
    ///         return std::nullopt;  // not this mapper's: the next one, or the logged 500
    ///     });
    ///
    /// Mappers are tried in registration order until one returns an error; HttpError and
    /// ValidationError never reach them. The answer then goes through the error renderer
    /// (on_error) like any other. A mapper that throws is logged, and the request gets a 500.
    /// Throws std::invalid_argument if `map` is empty, std::logic_error once serving.
    template <class E>
    App& on_exception(std::function<std::optional<HttpError>(const E&, Request&)> map) {
        if (!map) throw std::invalid_argument("App::on_exception: empty mapper");
        return add_exception_mapper([map = std::move(map)](std::exception_ptr error, Request& req) -> std::optional<HttpError> {
            try {
                std::rethrow_exception(error);
            } catch (const E& e) {
                return map(e, req);
            } catch (...) {
                return std::nullopt;
            }
        });
    }

    /// Every registered route, in registration order.
    std::vector<RouteInfo> routes() const;

    /// Registers a route; see RouteMethods. Throws std::logic_error once serving has started.
    RouteConfig add_route(std::string_view method, std::string_view path, std::vector<Middleware> middleware,
                          Handler handler);

    /// Runs the whole pipeline for one request: routes it (once), then global middleware,
    /// route middleware, the handler, and the error handler for whatever they throw. Never
    /// throws: every failure ends up as an error response. The finish hooks are not run here
    /// but by whoever writes the response, after the write.
    Task<> handle(Request& req, Response& res);
    /// Serves on `port` on all interfaces until SIGINT/SIGTERM, then drains and returns.
    /// Defined with the server (server/listen.cpp).
    void listen(unsigned short port);
    /// Serves with full control over limits, threads and timeouts; see ServerOptions.
    void listen(const ServerOptions& options);

    /// The log sink from AppOptions.
    const LogSink& log() const noexcept;
    /// The options the app was made with.
    const AppOptions& settings() const noexcept;

    /// The app's extensions: where a feature (views, the OpenAPI document, background tasks,
    /// yours) keeps its state and hears the app's lifecycle. See spur/extension.hpp.
    Extensions& extensions() noexcept;
    const Extensions& extensions() const noexcept;

    struct Impl;

private:
    friend class Serving;
    using ExceptionMapper = std::function<std::optional<HttpError>(std::exception_ptr, Request&)>;
    App& add_exception_mapper(ExceptionMapper mapper);
    Task<> run(Request& req, Response& res, const HttpError* refusal);
    std::unique_ptr<Impl> impl_;
};

}  // namespace spur
