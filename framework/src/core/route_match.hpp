#pragma once
// spur::detail::RouteMatch — the router's verdict for one request, kept in App::run's frame;
// the request itself carries only the matched route (Request::route_pattern() and friends).

#include <cstddef>
#include <string>
#include <string_view>

namespace spur::detail {

struct Route;

/// What the router decided for a request: computed once by App::handle, before any
/// middleware runs, and read by the chain after it.
struct RouteMatch {
    enum class Kind { unmatched, found, auto_options, method_not_allowed, not_found, bad_request, refused };
    Kind kind = Kind::unmatched;
    const Route* route = nullptr;           ///< set when kind == found
    std::string allow;                      ///< "GET, HEAD, OPTIONS" for 405 and automatic OPTIONS
};

}  // namespace spur::detail
