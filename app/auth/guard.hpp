#pragma once
// Authentication middleware: who is asking, from a Bearer token or an API key.

#include "services.hpp"

#include <spur/handler.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace app::auth {

/// The authenticated caller, stored in req.locals() by a guard.
struct Principal {
    std::uint64_t user_id = 0;
    std::string jti;          ///< empty when authenticated by API key
    std::int64_t expires_at = 0;
};

/// The browser session cookie: the same JWT as a bearer token, HttpOnly and SameSite=Strict.
/// Over https it is `__Host-spur_session`: the browser accepts that name only from this host,
/// Secure, with Path=/ and no Domain, so a sibling subdomain cannot plant or shadow it. Plain
/// http (local development) keeps `spur_session`, which browsers would refuse with the prefix.
std::string_view session_cookie(const spur::Request& req);

/// Requires a valid, unrevoked `Authorization: Bearer <jwt>`, or (without that header) the
/// session cookie; else 401 unauthorized.
spur::Middleware require_token(Services& s);
/// Requires a Bearer token or an `X-API-Key` (marking the key used); else 401 unauthorized.
spur::Middleware require_token_or_key(Services& s);
/// The principal set by a guard (a logic error if no guard ran).
const Principal& principal(const spur::Request& req);

/// The SHA-256 of an API key secret, as stored.
std::string key_hash(std::string_view secret);

}  // namespace app::auth
