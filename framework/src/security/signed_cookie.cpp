#include <spur/signed_cookie.hpp>

#include "security/base64.hpp"
#include "security/hmac.hpp"

#include <openssl/crypto.h>

#include <stdexcept>

namespace spur {

struct CookieSigner::Key : detail::HmacKey {
    using HmacKey::HmacKey;
};

CookieSigner::CookieSigner(std::string secret, std::vector<std::string> previous) {
    previous.insert(previous.begin(), std::move(secret));
    for (const auto& s : previous)
        if (s.size() < 32) throw std::invalid_argument("cookie signing secrets need at least 32 bytes");
    for (auto& s : previous) {
        secrets_.push_back(std::make_shared<const Key>(s));
        OPENSSL_cleanse(s.data(), s.size());
    }
}

std::string CookieSigner::mac(const Key& secret, std::string_view name, std::string_view value) const {
    // name '=' value: binds the signature to the cookie it was issued for.
    const auto digest = secret({name, "=", value});
    return detail::base64url_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

std::string CookieSigner::sign(std::string_view name, std::string_view value) const {
    if (secrets_.empty()) throw std::logic_error("spur::CookieSigner: used after being moved from");
    return std::string(value) + "." + mac(*secrets_.front(), name, value);
}

std::optional<std::string> CookieSigner::verify(std::string_view name, std::string_view signed_value) const {
    auto dot = signed_value.rfind('.');
    if (dot == std::string_view::npos) return std::nullopt;
    auto value = signed_value.substr(0, dot);
    auto signature = signed_value.substr(dot + 1);
    for (const auto& secret : secrets_) {
        std::string expected = mac(*secret, name, value);
        if (expected.size() == signature.size() &&
            CRYPTO_memcmp(expected.data(), signature.data(), expected.size()) == 0)
            return std::string(value);
    }
    return std::nullopt;
}

void CookieSigner::set(Response& res, std::string_view name, std::string_view value, const CookieOptions& options) const {
    res.cookie(name, sign(name, value), options);
}

std::optional<std::string> CookieSigner::get(const Request& req, std::string_view name) const {
    auto raw = req.cookie(name);
    if (!raw) return std::nullopt;
    return verify(name, *raw);
}

}  // namespace spur
