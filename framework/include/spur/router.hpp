#pragma once
// spur::Router — a group of routes with shared middleware, mounted under a prefix (express.Router, Flask blueprints).

#include <spur/detail/contract_fwd.hpp>
#include <spur/detail/route_doc.hpp>
#include <spur/handler.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace spur {

class WebSocket;  // spur/websocket.hpp

/// The function an `app.ws(path, ...)` route runs once the upgrade has succeeded (its
/// WebSocket is in spur/websocket.hpp). When it returns, the connection is closed with 1000
/// unless it was closed already.
using WsHandler = std::function<Task<>(WebSocket&)>;

/// One registered route, as App::routes() lists it.
struct RouteInfo {
    std::string method;   ///< "GET", or "*" for all()
    std::string pattern;  ///< "/api/texts/:id"
    bool documented;      ///< false for routes marked undocumented()
    /// What RouteConfig declared for the OpenAPI document; valid while the app lives.
    const detail::RouteDoc* doc = nullptr;
    /// The typed inputs (Body<T>, Query<T>, Path<T>) of its handler, if any; valid while the app lives.
    const detail::Inputs* inputs = nullptr;
};

namespace detail {
/// The HTTP handler behind a ws route: 426 unless the request is a WebSocket upgrade,
/// otherwise marks the response for upgrade. Throws std::invalid_argument for an empty handler.
Handler websocket_endpoint(WsHandler handler);
struct Route;
class RouteTree;
template <class Last, class... Fs>
void split_handlers(std::vector<Middleware>& middleware, Last& last, Fs&&... fs);
}  // namespace detail

/// Per-route settings, returned by get/post/...: `app.post("/upload", h).body_limit(8 << 20);`
class RouteConfig {
public:
    explicit RouteConfig(std::shared_ptr<detail::Route> route) noexcept : route_(std::move(route)) {}
    /// Overrides the server's maximum body size for this route (413 above it).
    RouteConfig& body_limit(std::size_t bytes);
    /// Hands the body to the handler chunk by chunk (Request::read_body_chunk) instead of
    /// reading it whole first — for uploads with multipart().
    RouteConfig& stream_body();
    /// Lets the handler finish when the client disconnects. By default a disconnect cancels
    /// the request's coroutine (the operation it awaits fails with operation_aborted, a
    /// spur::mysql query is stopped on the server too) and no response is written; a handler
    /// whose work must complete once started (a payment, say) opts out here.
    RouteConfig& run_to_completion();

    // What the OpenAPI document says about the route (see spur::openapi).
    /// A one-line summary of the operation.
    RouteConfig& summary(std::string text);
    /// A longer description (CommonMark).
    RouteConfig& description(std::string text);
    /// Adds a tag (the routes of a Router get its tag, or its mount prefix, by default).
    RouteConfig& tag(std::string name);
    /// Security schemes (names from OpenApiOptions::security_schemes), any one of which is accepted.
    RouteConfig& security(std::vector<std::string> schemes);
    /// Documents a string parameter the route reads without a typed extractor — one a
    /// middleware reads, say (`.parameter("header", "Idempotency-Key", "…")`). `in` is
    /// "header", "query" or "cookie"; throws std::invalid_argument for anything else.
    RouteConfig& parameter(std::string in, std::string name, std::string description, bool required = false);
    /// Declares a response with a JSON body of type T (a described struct, a vector, ...).
    template <class T>
    RouteConfig& responds(int status, std::string description = {}) {
        return add_response(status, &detail::schema_of<T>, std::move(description));
    }
    /// Declares a response without a body (204, a redirect, ...).
    RouteConfig& responds(int status, std::string description = {});
    /// Declares a response whose body is text of `media_type` ("text/plain", "text/html", ...).
    RouteConfig& responds_text(int status, std::string media_type, std::string description = {});
    /// Declares error responses, each with spur's error envelope.
    template <class... Status>
    RouteConfig& responds_error(Status... statuses) {
        (add_response(statuses, &detail::error_schema, {}), ...);
        return *this;
    }
    /// Leaves the route out of the OpenAPI document (the document's own routes, say).
    RouteConfig& undocumented();

private:
    RouteConfig& add_response(int status, detail::SchemaFn schema, std::string description,
                              std::string media_type = "application/json");
    std::shared_ptr<detail::Route> route_;
};

/// The verb methods shared by App and Router. Each takes a path pattern, then any
/// number of route middleware, then the handler:
/// `get("/users/:id", auth, [](Request& req, Response& res) {...})`.
/// Patterns: static segments, `:name` segments, and a final `*` or `*name` taking the rest.
template <class Derived>
class RouteMethods {
public:
    template <class... Fs> RouteConfig get(std::string_view path, Fs&&... fs) { return add("GET", path, std::forward<Fs>(fs)...); }
    template <class... Fs> RouteConfig post(std::string_view path, Fs&&... fs) { return add("POST", path, std::forward<Fs>(fs)...); }
    template <class... Fs> RouteConfig put(std::string_view path, Fs&&... fs) { return add("PUT", path, std::forward<Fs>(fs)...); }
    template <class... Fs> RouteConfig patch(std::string_view path, Fs&&... fs) { return add("PATCH", path, std::forward<Fs>(fs)...); }
    template <class... Fs> RouteConfig del(std::string_view path, Fs&&... fs) { return add("DELETE", path, std::forward<Fs>(fs)...); }
    template <class... Fs> RouteConfig head(std::string_view path, Fs&&... fs) { return add("HEAD", path, std::forward<Fs>(fs)...); }
    template <class... Fs> RouteConfig options(std::string_view path, Fs&&... fs) { return add("OPTIONS", path, std::forward<Fs>(fs)...); }
    /// Matches every method not registered explicitly on the same path.
    template <class... Fs> RouteConfig all(std::string_view path, Fs&&... fs) { return add("*", path, std::forward<Fs>(fs)...); }
    /// Any method by name, e.g. route("PROPFIND", "/dav", h).
    template <class... Fs> RouteConfig route(std::string_view method, std::string_view path, Fs&&... fs) {
        return add(method, path, std::forward<Fs>(fs)...);
    }
    /// A WebSocket route: a GET on `path` is upgraded once its middleware has passed (so
    /// auth can refuse with a normal HTTP answer); the last argument is a WsHandler,
    /// `Task<>(WebSocket&)`. A plain GET without the upgrade headers gets 426.
    template <class... Fs> RouteConfig ws(std::string_view path, Fs&&... fs) {
        static_assert(sizeof...(Fs) >= 1, "a ws route needs a handler");
        std::vector<Middleware> middleware;
        WsHandler handler;
        detail::split_handlers(middleware, handler, std::forward<Fs>(fs)...);
        return static_cast<Derived&>(*this).add_route("GET", path, std::move(middleware),
                                                      detail::websocket_endpoint(std::move(handler)));
    }

private:
    template <class... Fs>
    RouteConfig add(std::string_view method, std::string_view path, Fs&&... fs) {
        static_assert(sizeof...(Fs) >= 1, "a route needs a handler");
        std::vector<Middleware> middleware;
        Handler handler;
        detail::split_handlers(middleware, handler, std::forward<Fs>(fs)...);
        return static_cast<Derived&>(*this).add_route(method, path, std::move(middleware), std::move(handler));
    }
};

/// A mountable group of routes. Its middleware (use) runs for its own routes only,
/// after the app's global middleware and before each route's middleware.
/// Mounting copies the routes: change the router before mounting it.
class Router : public RouteMethods<Router> {
public:
    Router();
    ~Router();
    Router(Router&&) noexcept;
    Router& operator=(Router&&) noexcept;

    /// Adds middleware that runs before every route of this router.
    Router& use(Middleware middleware);
    /// Tags this router's routes in the OpenAPI document (routes with a tag of their own keep
    /// it). Without one, a mounted router's routes are tagged with the prefix's last segment
    /// ("/api/texts" -> "texts").
    Router& tag(std::string name);
    /// Copies `child`'s routes under `prefix` (e.g. "/v1"). Throws std::logic_error on a route conflict.
    Router& mount(std::string_view prefix, const Router& child);

    /// Registers a route. Throws std::invalid_argument for a malformed pattern and
    /// std::logic_error if it conflicts with an existing route.
    RouteConfig add_route(std::string_view method, std::string_view path, std::vector<Middleware> middleware,
                          Handler handler);

    /// The routes with this router's middleware applied, for mounting.
    std::vector<std::shared_ptr<detail::Route>> flattened(std::string_view prefix) const;

private:
    std::vector<Middleware> middleware_;
    std::string tag_;
    std::vector<std::shared_ptr<detail::Route>> routes_;
    std::unique_ptr<detail::RouteTree> tree_;  // only to report conflicts at registration
};

namespace detail {
template <class Last, class Tuple, std::size_t... I>
void split_handlers_impl(std::vector<Middleware>& middleware, Last& last, Tuple&& args, std::index_sequence<I...>) {
    (middleware.emplace_back(std::get<I>(std::move(args))), ...);
    last = Last(std::get<sizeof...(I)>(std::move(args)));
}

// All arguments but the last are middleware; the last is the handler (Handler or WsHandler).
template <class Last, class... Fs>
void split_handlers(std::vector<Middleware>& middleware, Last& last, Fs&&... fs) {
    split_handlers_impl(middleware, last, std::forward_as_tuple(std::forward<Fs>(fs)...),
                        std::make_index_sequence<sizeof...(Fs) - 1>{});
}
}  // namespace detail

}  // namespace spur
