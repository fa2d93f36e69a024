#include <spur/jwt.hpp>

#include "security/base64.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

namespace spur {

Jwt::Jwt(std::string secret, std::chrono::seconds leeway) : secret_(std::move(secret)), leeway_(leeway) {
    if (secret_.size() < 32) throw std::invalid_argument("JWT secrets need at least 32 bytes");
}

std::string Jwt::mac(std::string_view signing_input) const {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
              reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), digest, &length))
        throw std::runtime_error("HMAC-SHA256 failed");
    return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string Jwt::sign(const boost::json::object& claims) const {
    std::string input = detail::base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." +
                        detail::base64url_encode(boost::json::serialize(claims));
    return input + "." + detail::base64url_encode(mac(input));
}

namespace {
std::optional<boost::json::object> parse_object(std::string_view b64) {
    auto text = detail::base64url_decode(b64);
    if (!text) return std::nullopt;
    boost::system::error_code ec;
    auto v = boost::json::parse(*text, ec);
    if (ec || !v.is_object()) return std::nullopt;
    return std::move(v.as_object());
}

std::optional<std::int64_t> numeric_date(const boost::json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end()) return std::nullopt;
    if (it->value().is_int64()) return it->value().as_int64();
    if (it->value().is_uint64()) return static_cast<std::int64_t>(it->value().as_uint64());
    if (it->value().is_double()) return static_cast<std::int64_t>(it->value().as_double());
    return std::int64_t{-1};  // present but not a number: treated as invalid by the caller
}
}  // namespace

std::optional<boost::json::object> Jwt::verify(std::string_view token, std::chrono::system_clock::time_point now) const {
    if (token.size() > 8192) return std::nullopt;
    auto first = token.find('.');
    auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
    if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) return std::nullopt;

    auto header = parse_object(token.substr(0, first));
    if (!header) return std::nullopt;
    auto alg = header->find("alg");
    // Exactly HS256: "none", "None", "HS512", "RS256" (HS/RS confusion) all fail here.
    if (alg == header->end() || !alg->value().is_string() || alg->value().as_string() != "HS256") return std::nullopt;
    if (header->contains("crit")) return std::nullopt;  // extensions we do not understand

    auto signature = detail::base64url_decode(token.substr(second + 1));
    std::string expected = mac(token.substr(0, second));
    if (!signature || signature->size() != expected.size() ||
        CRYPTO_memcmp(signature->data(), expected.data(), expected.size()) != 0)
        return std::nullopt;

    auto claims = parse_object(token.substr(first + 1, second - first - 1));
    if (!claims) return std::nullopt;
    const std::int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    const std::int64_t leeway = leeway_.count();
    auto exp = numeric_date(*claims, "exp");
    if (!exp || *exp < 0 || *exp + leeway <= t) return std::nullopt;
    if (auto nbf = numeric_date(*claims, "nbf"); nbf && (*nbf < 0 || *nbf - leeway > t)) return std::nullopt;
    if (auto iat = numeric_date(*claims, "iat"); iat && (*iat < 0 || *iat - leeway > t)) return std::nullopt;
    return claims;
}

}  // namespace spur
