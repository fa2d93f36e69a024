#pragma once
// spur::middleware::cross_origin_protection — refuses cross-site requests that change state
// (CSRF) using Fetch Metadata, the approach of Go 1.25's CrossOriginProtection; and
// websocket_origins, the origins a WebSocket route accepts besides its own.

#include <spur/handler.hpp>

#include <string>
#include <vector>

namespace spur::middleware {

/// Options of cross_origin_protection().
struct CrossOriginOptions {
    /// Origins ("https://app.example.com") whose cross-origin requests are allowed.
    std::vector<std::string> trusted_origins;
    /// Exact paths exempt from the check (a webhook called by another site, say).
    std::vector<std::string> bypass_paths;
};

/// For cookie-authenticated apps: a non-safe request (anything but GET, HEAD, OPTIONS) that a
/// browser marks `Sec-Fetch-Site: cross-site` or `same-site` gets 403 "cross_origin_request",
/// unless its Origin is trusted. Browsers without Fetch Metadata are judged by Origin against
/// Host instead. Requests with neither header (curl, servers, API clients) pass: they carry no
/// ambient browser credentials. Throws std::invalid_argument for a trusted origin that is not
/// "scheme://host[:port]".
Middleware cross_origin_protection(CrossOriginOptions options = {});

/// WebSocket routes (`app.ws`) refuse an upgrade whose Origin is another site's with 403
/// "origin_not_allowed" — cross-site WebSocket hijacking would otherwise ride on the user's
/// cookies. Use this middleware (on the app or before a ws route) to accept more origins;
/// "*" accepts any. Throws std::invalid_argument for an entry that is not an origin or "*".
Middleware websocket_origins(std::vector<std::string> origins);

}  // namespace spur::middleware
