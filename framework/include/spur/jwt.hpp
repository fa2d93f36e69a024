#pragma once
// spur::Jwt — HS256 JSON Web Tokens (RFC 7519) signed and verified with OpenSSL HMAC.

#include <boost/json/object.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace spur {

/// Signs and verifies HS256 tokens with one secret. Verification accepts only
/// `{"alg":"HS256"}` headers — never "none" or another algorithm, whatever the casing —
/// compares the signature in constant time, requires a numeric `exp` in the future, and
/// rejects `nbf`/`iat` in the future — each check give or take `leeway`, for servers whose
/// clocks differ by a few seconds. Key-selection headers (kid, jku, jwk, x5u) are never
/// used: the only key is the secret given here.
class Jwt {
public:
    /// Throws std::invalid_argument for a secret shorter than 32 bytes.
    explicit Jwt(std::string secret, std::chrono::seconds leeway = std::chrono::seconds(0));

    /// header.payload.signature for `claims` (set exp/iat/jti yourself).
    std::string sign(const boost::json::object& claims) const;

    /// The claims of a valid token, or nullopt (malformed, tampered, wrong algorithm, expired...).
    /// Throws std::logic_error on a Jwt moved from, std::bad_alloc when memory runs out.
    /// Each thread that verifies keeps up to 64 tokens it accepted (of at most 1 KiB each,
    /// whatever the key): a token's first verify leaves its hash, its second stores it, and
    /// from its third it is compared byte for byte in constant time instead of being MAC'd
    /// and parsed; its exp/nbf/iat are checked against `now` on every call all the same. A
    /// stored token stays, even once revoked, until evicted or its thread ends. Revocation is
    /// the caller's to check, as before.
    std::optional<boost::json::object> verify(std::string_view token,
                                              std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const;

private:
    struct Key;  // the secret, keyed into an HMAC context once
    std::string mac(std::string_view signing_input) const;
    std::shared_ptr<const Key> key_;
    std::chrono::seconds leeway_;
};

}  // namespace spur
