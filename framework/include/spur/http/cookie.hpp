#pragma once
// spur cookies — the options for Set-Cookie and the parsing/serialising helpers behind them.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spur {

/// SameSite attribute of a cookie.
enum class SameSite { none, lax, strict };

/// Attributes of a Set-Cookie header. Defaults are the safe ones: HttpOnly, SameSite=Lax, Path=/.
struct CookieOptions {
    std::string path = "/";
    std::string domain;                                  ///< empty: host-only cookie
    std::optional<std::chrono::seconds> max_age;         ///< empty: session cookie
    std::optional<std::chrono::system_clock::time_point> expires;
    bool http_only = true;
    bool secure = false;                                 ///< forced on when same_site is none
    SameSite same_site = SameSite::lax;
};

/// Builds a Set-Cookie header value. The value is percent-encoded where needed.
/// Throws std::invalid_argument for a name that is not an RFC 6265 token or
/// a path/domain containing ';', CR, LF or NUL.
std::string serialize_cookie(std::string_view name, std::string_view value, const CookieOptions& options = {});

/// Parses a Cookie request header into (name, value) pairs, percent-decoding values
/// and dropping surrounding quotes. Malformed pairs are skipped, never fatal.
std::vector<std::pair<std::string, std::string>> parse_cookie_header(std::string_view header);

}  // namespace spur
