#pragma once
// spur::detail::RouteMatch — the router's verdict for one request, kept on the request.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace spur::detail {

struct Route;  // defined in the library; opaque to users

/// What the router decided for a request: computed once by App::handle, before any
/// middleware runs, and read by everything after it (body limit included).
struct RouteMatch {
    enum class Kind { unmatched, found, auto_options, method_not_allowed, not_found, bad_request, refused };
    Kind kind = Kind::unmatched;
    const Route* route = nullptr;           ///< set when kind == found
    std::string_view pattern;               ///< the matched route's pattern, e.g. "/users/:id"
    std::string allow;                      ///< "GET, HEAD, OPTIONS" for 405 and automatic OPTIONS
    std::optional<std::size_t> body_limit;  ///< the route's own body limit, if it set one
    bool stream_body = false;               ///< the route reads its body in chunks
    bool cancel_on_disconnect = true;       ///< a client that leaves cancels the handler
};

struct RequestAccess;  // the core's access to the routing state of a Request

}  // namespace spur::detail
