#pragma once
// spur::middleware::security_headers — helmet-style protective response headers.

#include <spur/handler.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace spur::middleware {

/// Options of security_headers(). An empty string leaves that header out.
struct SecurityHeadersOptions {
    bool no_sniff = true;                                        ///< X-Content-Type-Options: nosniff
    std::string frame_options = "DENY";                          ///< X-Frame-Options (legacy browsers)
    std::string content_security_policy = "frame-ancestors 'none'";  ///< the modern framing control
    std::string referrer_policy = "no-referrer";
    std::string cross_origin_opener_policy = "same-origin";
    std::string cross_origin_resource_policy = "same-origin";
    /// Strict-Transport-Security; off by default because it must only be sent over HTTPS.
    std::optional<std::chrono::seconds> hsts_max_age;
    bool hsts_include_subdomains = true;
    bool hsts_preload = false;
};

/// Sets the configured headers before the rest of the chain runs, so error responses carry
/// them too; a handler may still override any of them with res.set().
Middleware security_headers(SecurityHeadersOptions options = {});

}  // namespace spur::middleware
