#pragma once
// spur::detail::Route — one registered route: method, pattern, middleware, handler, limits.

#include <spur/detail/contract_fwd.hpp>
#include <spur/detail/route_doc.hpp>
#include <spur/handler.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace spur::detail {

struct Route {
    std::string method;   ///< upper-case, or "*" for all()
    std::string pattern;  ///< normalised: "/users/:id"
    std::vector<Middleware> middleware;
    Handler handler;
    std::optional<std::size_t> body_limit;
    bool stream_body = false;
    bool cancel_on_disconnect = true;
    RouteDoc doc;
};

/// Upper-cases a method token and checks it; throws std::invalid_argument if it is not a token.
std::string normalize_method(std::string_view method);

/// Validates and builds a route. Throws std::invalid_argument for an empty handler, a bad
/// method or a pattern not starting with '/'.
std::shared_ptr<Route> make_route(std::string_view method, std::string_view path, std::vector<Middleware> middleware,
                                  Handler handler);

/// Joins a mount prefix and a pattern ("/api" + "/items" -> "/api/items"), normalising slashes.
std::string join_pattern(std::string_view prefix, std::string_view pattern);

}  // namespace spur::detail
