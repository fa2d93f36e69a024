#pragma once
// spur::detail::RouteMatch — the router's verdict for one request, kept on the request.

#include <cstddef>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

namespace spur::detail {

struct Route;  // defined in the library; opaque to users

/// What the router decided for a request; filled before middleware runs.
struct RouteMatch {
    enum class Kind { unmatched, found, auto_options, method_not_allowed, not_found, bad_request };
    Kind kind = Kind::unmatched;
    const Route* route = nullptr;  ///< set when kind == found
    std::string_view pattern;      ///< the matched route's pattern, e.g. "/users/:id"
    std::string allow;             ///< "GET, HEAD, OPTIONS" for 405 and automatic OPTIONS
};

struct RequestAccess;  // library-internal access to Request's routing state

/// Where a streamed request body comes from (the connection); see Request::read_body_chunk.
class BodySource {
public:
    virtual ~BodySource() = default;
    /// The next chunk, or "" at the end.
    virtual boost::asio::awaitable<std::string_view> next() = 0;
};

}  // namespace spur::detail
