#pragma once
// spur::Serving — the serving side of an App: what a transport (spur's server, the test client,
// one of yours) calls around App::handle().

#include <spur/task.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <functional>

namespace spur {

class App;
class HttpError;
class Request;
class Response;

/// A handle on an App for whoever serves it. Making one freezes the app; the app's lifecycle
/// (start, drain, stop) then runs through it, and requests the transport refuses before
/// routing are answered through refuse(). Handles are cheap and share the app's state: the
/// lifecycle steps each happen once however many handles call them. A transport of your own
/// builds each Request with its spur::detail::Wire (spur/detail/wire.hpp), awaits
/// App::handle(), then writes the response and runs its finish hooks.
class Serving {
public:
    /// Freezes `app`: routes, middleware and setup are final from now on (changing them throws
    /// std::logic_error) and are read without locks; the extensions hear Extension::frozen().
    /// Throws std::logic_error if a handler's spur::Path<T> does not fit its route's
    /// parameters, or if an extension refuses the app.
    explicit Serving(App& app);

    /// The app served.
    App& app() const noexcept { return app_; }

    /// Starts the extensions' work (App background tasks, …) on strands of `executor`.
    void start(const boost::asio::any_io_executor& executor);
    /// Begins a drain: Extensions::draining() turns true and readiness answers 503. Server
    /// calls it first on shutdown, before ServerOptions::drain_delay.
    void drain() noexcept;
    /// Drains if that has not begun, cancels the extensions' work (background tasks, open
    /// event streams, which end with their final event) and calls `done`, from any thread,
    /// once all of it has finished. The server calls it when it stops accepting.
    void stop(std::function<void()> done);

    /// Answers a request the transport refused before routing — a malformed or oversized
    /// header, framing it does not accept — with `error`: global middleware run as for any
    /// request (so access logs and metrics see it), then the same error rendering and
    /// on_error handler. `req` may be nearly empty (no method or path) when the request line
    /// itself could not be read. Never throws.
    Task<> refuse(Request& req, Response& res, const HttpError& error);

private:
    App& app_;
};

}  // namespace spur
