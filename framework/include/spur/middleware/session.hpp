#pragma once
// spur::middleware::session — loads the visitor's spur::Session before the handler, saves it after.

#include <spur/http/cookie.hpp>
#include <spur/handler.hpp>
#include <spur/session.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace spur::middleware {

/// Options of session().
struct SessionOptions {
    /// Signs the cookie (HMAC-SHA256): at least 32 bytes. Required.
    std::string secret{};
    /// Older secrets that still verify, so the secret can be rotated without logging anyone out.
    std::vector<std::string> previous_secrets{};
    /// Where sessions live: CookieSessionStore (default) or spur::mysql::SessionStore.
    std::shared_ptr<SessionStore> store = std::make_shared<CookieSessionStore>();
    std::string cookie_name = "spur.sid";
    /// How long a session lasts.
    std::chrono::seconds max_age = std::chrono::hours(24);
    /// true: max_age counts from the latest request (idle timeout; the expiry moves forward at
    /// most once a minute, so reads rarely write). false: from the session's creation (absolute).
    bool rolling = true;
    /// Path, domain and SameSite of the cookie (HttpOnly and SameSite=Lax by default). Secure
    /// is added whenever the request is secure — HTTPS, or a trusted proxy saying so.
    CookieOptions cookie{};
};

/// Gives every request a spur::Session (spur::session(req)). Throws std::invalid_argument for a
/// short secret or a missing store. A cookie that is absent, tampered with, unknown to the
/// store or expired starts a new, empty session; a store that fails (database down) fails the
/// request with its exception. Session changes are saved before the response is sent, so a
/// client that sees the response can rely on them.
Middleware session(SessionOptions options);

}  // namespace spur::middleware
