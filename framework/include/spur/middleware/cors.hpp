#pragma once
// spur::middleware::cors — Cross-Origin Resource Sharing, including preflight requests.

#include <spur/handler.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spur::middleware {

/// Options of cors(). Nothing is allowed until you list origins or give a predicate.
struct CorsOptions {
    /// Exact origins such as "https://app.example.com"; "*" allows any origin.
    std::vector<std::string> origins;
    /// If set, decides instead of `origins`.
    std::function<bool(std::string_view origin)> allow_origin;
    /// Access-Control-Allow-Credentials. With it, the specific origin is echoed, never "*", and
    /// `origins` may not contain "*" (cors() throws std::invalid_argument).
    bool credentials = false;
    std::vector<std::string> methods = {"GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"};
    /// Allowed request headers; empty reflects what the preflight asks for.
    std::vector<std::string> allowed_headers;
    /// Response headers the browser may expose to scripts.
    std::vector<std::string> exposed_headers;
    /// How long browsers may cache a preflight answer.
    std::optional<std::chrono::seconds> max_age = std::chrono::seconds(600);
};

/// Answers preflights (OPTIONS with Access-Control-Request-Method) itself with 204 and
/// `Vary: Origin`; adds the CORS headers to other requests from allowed origins. Requests
/// from other origins get no CORS headers (the browser then blocks them). Requests without
/// an Origin header pass untouched.
/// Throws std::invalid_argument for origins "*" together with credentials.
Middleware cors(CorsOptions options);

}  // namespace spur::middleware
