#pragma once
// spur::CookieSigner — tamper-proof cookie values with HMAC-SHA256 (like cookie-parser's signed cookies).

#include <spur/http/cookie.hpp>
#include <spur/request.hpp>
#include <spur/response.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spur {

/// Signs cookie values as "value.signature" and verifies them in constant time. The
/// signature covers the cookie name too, so a value cannot be moved to another cookie.
/// Values are readable by the client: sign, don't hide, with this.
class CookieSigner {
public:
    /// Throws std::invalid_argument if `secret` (or any previous secret) is shorter than 32 bytes.
    /// `previous` secrets still verify, so secrets can be rotated without logging everyone out.
    explicit CookieSigner(std::string secret, std::vector<std::string> previous = {});

    /// "value.signature" for cookie `name`.
    std::string sign(std::string_view name, std::string_view value) const;
    /// The original value if `signed_value` carries a valid signature for `name`, else nullopt.
    std::optional<std::string> verify(std::string_view name, std::string_view signed_value) const;

    /// Sets cookie `name` to the signed `value` on `res`.
    void set(Response& res, std::string_view name, std::string_view value, const CookieOptions& options = {}) const;
    /// The verified value of cookie `name` from `req`; nullopt if absent or tampered with.
    std::optional<std::string> get(const Request& req, std::string_view name) const;

private:
    struct Key;  // a secret, keyed into an HMAC context once
    std::string mac(const Key& secret, std::string_view name, std::string_view value) const;
    std::vector<std::shared_ptr<const Key>> secrets_;  // current first
};

}  // namespace spur
