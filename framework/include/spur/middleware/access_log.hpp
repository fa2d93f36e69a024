#pragma once
// spur::middleware::access_log — one line per request: method, path, status, bytes, duration, request and trace ids.

#include <spur/handler.hpp>

#include <functional>
#include <string_view>

namespace spur::middleware {

/// Line formats of access_log().
enum class AccessLogFormat {
    dev,       ///< `GET /path 200 512B 1.234ms id=… trace=…` — short, for a terminal
    combined,  ///< Apache/nginx "combined", then duration in ms, the request id and the trace id ("-" when none)
    json,      ///< one JSON object per line, for log shippers
};

/// Options of access_log().
struct AccessLogOptions {
    AccessLogFormat format = AccessLogFormat::dev;
    /// Receives each line without a newline; called from I/O threads, so it must be thread-safe.
    /// Default: stderr, one write per line.
    std::function<void(std::string_view line)> sink;
};

/// Logs every request once its response has been written: the final status (499 if the client
/// left first), the body bytes actually sent and the whole duration, write included. Requests
/// the server refused (413, 431, malformed) are logged too, with method and path "-" when the
/// request line was unreadable. Put it first so it also times the other middleware. The
/// request id comes from request_id() when that runs before the response is finished. The
/// trace id (`req.trace()`) is logged when the request has one — something used it, or the
/// caller sent a `traceparent` — and is not made for the log alone.
Middleware access_log(AccessLogOptions options = {});

}  // namespace spur::middleware
