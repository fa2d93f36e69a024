#include <spur/signed_cookie.hpp>

#include "security/base64.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

namespace spur {

CookieSigner::CookieSigner(std::string secret, std::vector<std::string> previous) {
    secrets_.push_back(std::move(secret));
    for (auto& s : previous) secrets_.push_back(std::move(s));
    for (const auto& s : secrets_)
        if (s.size() < 32) throw std::invalid_argument("cookie signing secrets need at least 32 bytes");
}

std::string CookieSigner::mac(const std::string& secret, std::string_view name, std::string_view value) const {
    // name '=' value: binds the signature to the cookie it was issued for.
    std::string message;
    message.reserve(name.size() + value.size() + 1);
    message.append(name).push_back('=');
    message.append(value);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
              reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length))
        throw std::runtime_error("HMAC-SHA256 failed");
    return detail::base64url_encode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string CookieSigner::sign(std::string_view name, std::string_view value) const {
    return std::string(value) + "." + mac(secrets_.front(), name, value);
}

std::optional<std::string> CookieSigner::verify(std::string_view name, std::string_view signed_value) const {
    auto dot = signed_value.rfind('.');
    if (dot == std::string_view::npos) return std::nullopt;
    auto value = signed_value.substr(0, dot);
    auto signature = signed_value.substr(dot + 1);
    for (const auto& secret : secrets_) {
        std::string expected = mac(secret, name, value);
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
