#include "auth/guard.hpp"

#include "api_keys/repository.hpp"
#include "auth/repository.hpp"

#include <boost/beast/core/string.hpp>
#include <openssl/sha.h>

#include <charconv>
#include <stdexcept>
#include <string_view>

namespace app::auth {

namespace {

spur::HttpError unauthorized(std::string message) {
    spur::HttpError e(401, "unauthorized", std::move(message));
    e.with_header("WWW-Authenticate", "Bearer");
    return e;
}

// The token of a request: `Authorization: Bearer …` (API clients) or else the browser's
// HttpOnly session cookie (the web front end). Throws 401 when there is neither.
std::string_view token_of(const spur::Request& req) {
    auto authorization = req.header("Authorization");
    if (authorization.empty()) {
        if (auto cookie = req.cookie(session_cookie(req)); cookie && !cookie->empty()) return *cookie;
        throw unauthorized("Missing or malformed bearer token");
    }
    if (authorization.size() < 7 || !boost::beast::iequals(authorization.substr(0, 7), "Bearer "))
        throw unauthorized("Missing or malformed bearer token");
    return authorization.substr(7);
}

// The token's claims, checked without the database; throws 401.
PendingAuth verify_token(Services& s, std::string_view token) {
    auto claims = s.jwt.verify(token);
    if (!claims) throw unauthorized("Invalid or expired token");
    auto sub = claims->find("sub");
    auto jti = claims->find("jti");
    if (sub == claims->end() || !sub->value().is_string() || jti == claims->end() || !jti->value().is_string())
        throw unauthorized("Invalid token");
    Principal p;
    // The subject is a user id exactly as this server writes it: digits, nothing around them.
    const std::string_view subject = sub->value().as_string();
    const auto [end, ec] = std::from_chars(subject.data(), subject.data() + subject.size(), p.user_id);
    if (ec != std::errc() || end != subject.data() + subject.size() || subject.empty() || subject[0] == '+')
        throw unauthorized("Invalid token");
    p.jti = std::string(jti->value().as_string());
    // A whole number of seconds, as issued: anything else is not a token of this server's.
    const auto exp = claims->find("exp");
    if (exp == claims->end() || !exp->value().is_int64()) throw unauthorized("Invalid token");
    p.expires_at = exp->value().to_number<std::int64_t>();
    // Tokens from before generations existed carry none: generation 0.
    std::int64_t generation = 0;
    if (auto gen = claims->find("gen"); gen != claims->end()) {
        if (!gen->value().is_int64()) throw unauthorized("Invalid token");  // past int64: not one this server issued
        generation = gen->value().to_number<std::int64_t>();
    }
    return PendingAuth{std::move(p), generation, false};
}

// Throws 401 unless the token is valid and not logged out.
spur::Task<Principal> from_token(Services& s, std::string_view token) {
    PendingAuth pending = verify_token(s, token);
    auto state = co_await token_state(s.db, pending.principal.user_id, pending.principal.jti);
    co_return pending.confirm(state);
}

spur::Task<Principal> from_key(Services& s, std::string_view secret) {
    auto owner = co_await api_keys::use_key(s.db, key_hash(secret));
    if (!owner) throw unauthorized("Invalid or revoked API key");
    Principal p;
    p.user_id = *owner;
    co_return p;
}

}  // namespace

std::string_view session_cookie(const spur::Request& req) {
    // Only the name the request's scheme calls for: over https an unprefixed cookie is one any
    // subdomain could have set.
    return req.secure() ? "__Host-spur_session" : "spur_session";
}

std::string key_hash(std::string_view secret) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), digest);
    return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

const Principal& PendingAuth::confirm(const std::optional<TokenState>& state) const {
    if (confirmed) return principal;
    if (!state) throw unauthorized("This account no longer exists");
    if (state->revoked) throw unauthorized("Token has been revoked");
    // A password change or "log out everywhere" raised the account's generation past this token's.
    if (generation != static_cast<std::int64_t>(state->generation)) throw unauthorized("Token has been revoked");
    return principal;
}

spur::Task<PendingAuth> Authenticator::claim(const spur::Request& req) {
    auto key = req.header("X-API-Key");
    if (!key.empty() && req.header("Authorization").empty()) {
        spur::Task<Principal> by_key = from_key(s_, key);
        Principal p = co_await std::move(by_key);
        co_return PendingAuth{std::move(p), 0, true};
    }
    co_return verify_token(s_, token_of(req));
}

spur::Task<PendingAuth> PendingAuth::extract(spur::Request& req) {
    spur::Task<PendingAuth> pending = req.app().extensions().get<Authenticator>().claim(req);  // named: GCC 12
    co_return co_await std::move(pending);
}

void PendingAuth::document(spur::ExtractorDoc& doc) { Auth<Principal, Credentials::token_or_key>::document(doc); }

spur::Task<Principal> Authenticator::authenticate(const spur::Request& req, Credentials c) {
    auto key = req.header("X-API-Key");
    if (c == Credentials::token_or_key && !key.empty() && req.header("Authorization").empty()) {
        spur::Task<Principal> by_key = from_key(s_, key);
        co_return co_await std::move(by_key);
    }
    spur::Task<Principal> by_token = from_token(s_, token_of(req));
    co_return co_await std::move(by_token);
}

template <class P, Credentials C>
spur::Task<Auth<P, C>> Auth<P, C>::extract(spur::Request& req) {
    spur::Task<Principal> pending = req.app().extensions().get<Authenticator>().authenticate(req, C);  // named: GCC 12
    Principal p = co_await std::move(pending);
    co_return Auth{std::move(p)};
}

template <class P, Credentials C>
void Auth<P, C>::document(spur::ExtractorDoc& doc) {
    doc.security.emplace_back("bearer");
    doc.security.emplace_back("session");  // the same token, in the browser's cookie
    if (C == Credentials::token_or_key) {
        doc.security.emplace_back("apiKey");
        doc.errors.emplace_back(401, "Not signed in: no valid token, session cookie or API key");
    } else {
        doc.errors.emplace_back(401, "Not signed in: no valid token or session cookie");
    }
}

template struct Auth<Principal, Credentials::token>;
template struct Auth<Principal, Credentials::token_or_key>;

}  // namespace app::auth
