#include "api_keys/handlers.hpp"

#include "idempotency.hpp"
#include "api_keys/contract.hpp"
#include "api_keys/repository.hpp"
#include "auth/confirm.hpp"
#include "auth/guard.hpp"

#include <spur/contract/contract.hpp>
#include <spur/random.hpp>

namespace app::api_keys {

namespace {
std::optional<spur::DateTime> when(const std::optional<spur::mysql::DateTime>& t) {
    if (!t) return std::nullopt;
    return t->to_iso8601();
}

KeyOut out(const ApiKey& k) {
    return {k.id, k.name, k.prefix, k.created_at.to_iso8601(), when(k.last_used_at), k.expires_at.to_iso8601()};
}

constexpr std::uint32_t default_days = 90;
}  // namespace

spur::Handler create(Services& s) {
    return [&s](spur::Request& req, spur::Response& res, auth::Auth<auth::Principal> caller, spur::Body<KeyIn> in) -> spur::Task<> {
        const std::uint32_t days =
            in->expires_in_days ? static_cast<std::uint32_t>(in->expires_in_days->value) : default_days;
        std::string password = std::move(in->password);
        // A key outlives the session that made it: only whoever knows the password mints one.
        const auth::Confirmed confirmed = co_await auth::confirm_password(s, req, caller->user_id, password);
        // A key acts without a session: only an account whose address is proven may have one
        // (REQUIRE_VERIFIED_EMAIL), so a throwaway address cannot mint long-lived credentials.
        if (s.config.require_verified_email && !confirmed.user.email_verified_at)
            throw spur::HttpError(403, "email_unverified",
                                  "Verify your e-mail address first: POST /api/auth/verify-email mails the link");
        // Shown once; only its SHA-256 is stored. 32 random bytes: nothing to brute-force.
        std::string secret = "sk_" + spur::random_token(32);
        std::string prefix = secret.substr(0, 11);
        // In the account's current token generation: logout-all or a password change ends it.
        std::optional<ApiKey> key;
        auto insert = [&](spur::mysql::Connection& tx) -> spur::Task<> {
            key = co_await create_key(tx, confirmed.user.id, in->name, prefix, auth::key_hash(secret), days,
                                      confirmed.user.token_generation);
            co_await mark_applied(s, tx, req);  // with the key, the request's Idempotency-Key
        };
        co_await s.db.transaction(insert);
        res.set("Cache-Control", "private, no-store");  // the secret is shown this once
        res.status(201).json(KeyCreated{true, out(*key), secret});
    };
}

spur::Handler list(Services& s) {
    return [&s](spur::Request&, spur::Response& res, auth::Auth<auth::Principal> caller) -> spur::Task<> {
        KeyList reply;
        for (const auto& key : co_await list_keys(s.db, caller->user_id)) reply.items.push_back(out(key));
        res.json(reply);
    };
}

spur::Handler remove(Services& s) {
    return [&s](spur::Request&, spur::Response& res, auth::Auth<auth::Principal> caller, spur::Path<spur::Int<1>> id) -> spur::Task<> {
        if (!co_await delete_key(s.db, caller->user_id, static_cast<std::uint64_t>(*id)))
            throw spur::HttpError(404, "not_found", "No such API key");
        res.status(204).end();
    };
}

}  // namespace app::api_keys
