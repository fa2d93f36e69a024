#include <spur/jwt.hpp>

#include "security/base64.hpp"
#include "security/hmac.hpp"
#include "security/verified_tokens.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <openssl/crypto.h>

#include <new>
#include <stdexcept>

namespace spur {

struct Jwt::Key : detail::HmacKey {
    using HmacKey::HmacKey;
};

Jwt::Jwt(std::string secret, std::chrono::seconds leeway) : leeway_(leeway) {
    if (secret.size() < 32) throw std::invalid_argument("JWT secrets need at least 32 bytes");
    key_ = std::make_shared<const Key>(secret);
    OPENSSL_cleanse(secret.data(), secret.size());
}

std::string Jwt::mac(std::string_view signing_input) const {
    if (!key_) throw std::logic_error("spur::Jwt: used after being moved from");
    const auto digest = (*key_)({signing_input});
    return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

std::string Jwt::sign(const boost::json::object& claims) const {
    std::string input = detail::base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." +
                        detail::base64url_encode(boost::json::serialize(claims));
    return input + "." + detail::base64url_encode(mac(input));
}

namespace {
std::optional<boost::json::object> parse_object(std::string_view b64, boost::json::storage_ptr storage = {}) {
    auto text = detail::base64url_decode(b64);
    if (!text) return std::nullopt;
    boost::system::error_code ec;
    auto v = boost::json::parse(*text, ec, std::move(storage));
    if (ec || !v.is_object()) return std::nullopt;
    return std::move(v.as_object());
}

std::optional<std::int64_t> numeric_date(const boost::json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end()) return std::nullopt;
    if (it->value().is_int64()) return it->value().as_int64();
    if (it->value().is_uint64()) return static_cast<std::int64_t>(it->value().as_uint64());
    if (it->value().is_double()) {
        // A NumericDate may have a fraction; a negative one, or one past int64, is not a date.
        const double d = it->value().as_double();
        if (!(d >= 0 && d < 9.2e18)) return std::int64_t{-1};
        return static_cast<std::int64_t>(d);
    }
    return std::int64_t{-1};  // present but not a number: treated as invalid by the caller
}

// exp must be a number in the future; nbf and iat, where present, not in the future.
bool times_hold(const boost::json::object& claims, std::chrono::system_clock::time_point now, std::chrono::seconds leeway) {
    // In 128 bits: a date near the end of int64 plus the leeway must not overflow.
    const __int128 t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    const __int128 skew = leeway.count();
    auto exp = numeric_date(claims, "exp");
    if (!exp || *exp < 0 || *exp + skew <= t) return false;
    if (auto nbf = numeric_date(claims, "nbf"); nbf && (*nbf < 0 || *nbf - skew > t)) return false;
    if (auto iat = numeric_date(claims, "iat"); iat && (*iat < 0 || *iat - skew > t)) return false;
    return true;
}
}  // namespace

std::optional<boost::json::object> Jwt::verify(std::string_view token, std::chrono::system_clock::time_point now) const {
    if (!key_) throw std::logic_error("spur::Jwt: used after being moved from");
    if (token.size() > 8192) return std::nullopt;
    // The same bytes under the same key verify the same way: a token seen on this thread
    // skips the header, the signature and the parse, and only its times are checked again.
    if (const boost::json::object* known = detail::VerifiedTokens::find(key_->id(), token)) {
        if (!times_hold(*known, now, leeway_)) return std::nullopt;
        return *known;
    }
    auto first = token.find('.');
    auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
    if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) return std::nullopt;

    // The header is read here and dropped: parsed into this frame's buffer, not the heap.
    unsigned char scratch[512];
    boost::json::monotonic_resource header_memory(scratch, sizeof scratch);
    auto header = parse_object(token.substr(0, first), &header_memory);
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
    if (!claims || !times_hold(*claims, now, leeway_)) return std::nullopt;
    try {
        detail::VerifiedTokens::remember(key_->id(), token, *claims);
    } catch (const std::bad_alloc&) {
        // Out of memory for the copy: the token is valid all the same, and is checked in full
        // next time. Answering it with an error because a cache could not grow would be wrong.
    }
    return claims;
}

}  // namespace spur
