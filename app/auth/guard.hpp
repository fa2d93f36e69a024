#pragma once
// Authentication: who is asking, from a Bearer token, the session cookie or an API key — an
// extractor a handler takes (`auth::Auth<Principal> caller`), so a route's guard and its
// OpenAPI security are one thing.

#include "auth/repository.hpp"
#include "services.hpp"

#include <spur/extension.hpp>
#include <spur/inputs.hpp>
#include <spur/task.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace app::auth {

/// The authenticated caller.
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

/// How a caller may prove who it is.
enum class Credentials {
    token,         ///< `Authorization: Bearer <jwt>` or, without that header, the session cookie
    token_or_key,  ///< the same, or an `X-API-Key` (marking the key used)
};

/// The signed-in caller, as a handler's argument: `auth::Auth<Principal> caller` then
/// `caller->user_id`. Extracted before the body is read: a valid, unrevoked token (or, with
/// Credentials::token_or_key, an API key), else 401 unauthorized with `WWW-Authenticate:
/// Bearer`. Documents the route's OpenAPI security (`bearer`, and `apiKey` when a key is
/// accepted) and its 401. Needs the Authenticator extension on the app (routes.cpp adds it).
template <class P, Credentials C = Credentials::token>
struct Auth {
    P principal;
    const P& operator*() const noexcept { return principal; }
    const P* operator->() const noexcept { return &principal; }

    static spur::Task<Auth> extract(spur::Request& req);
    static void document(spur::ExtractorDoc& doc);
};

/// A caller whose token is proven (signature, expiry, claims) but whose revocation state is
/// left to the handler's own statement, read in the same round trip as its data: one statement
/// instead of two, and a revoked token still refused at once (`GET /api/texts/:id`). An API
/// key is checked in full, its lookup being the check. Until confirm() has accepted the state
/// the handler's statement read, the caller is not authenticated: nothing may be answered.
/// Documented like Auth<P, Credentials::token_or_key>.
struct PendingAuth {
    Principal principal;          ///< as the token claims, or the API key's owner
    std::int64_t generation = 0;  ///< the token's generation ("gen"), compared with the account's
    bool confirmed = false;       ///< true for an API key: no token state to read

    /// The caller, if `state` (the account's token state read for principal.user_id and
    /// principal.jti; nullopt when the account is gone) accepts the token; else throws the 401
    /// Auth would have thrown.
    const Principal& confirm(const std::optional<TokenState>& state) const;

    static spur::Task<PendingAuth> extract(spur::Request& req);
    static void document(spur::ExtractorDoc& doc);
};

/// What Auth reads credentials against: the services of the app it is added to.
class Authenticator : public spur::Extension {
public:
    explicit Authenticator(Services& s) : s_(s) {}
    /// The caller of `req` with credentials of kind `c`; throws HttpError 401.
    spur::Task<Principal> authenticate(const spur::Request& req, Credentials c);
    /// The same, with a token's state left to the caller (PendingAuth); throws HttpError 401.
    spur::Task<PendingAuth> claim(const spur::Request& req);

private:
    Services& s_;
};

/// The SHA-256 of an API key secret, as stored.
std::string key_hash(std::string_view secret);

}  // namespace app::auth
