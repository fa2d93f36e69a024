#include "api_keys/handlers.hpp"

#include "api_keys/contract.hpp"
#include "api_keys/repository.hpp"
#include "auth/guard.hpp"

#include <spur/contract.hpp>
#include <spur/random.hpp>

namespace app::api_keys {

namespace {
std::optional<spur::DateTime> when(const std::optional<spur::mysql::DateTime>& t) {
    if (!t) return std::nullopt;
    return t->to_iso8601();
}

KeyOut out(const ApiKey& k) {
    return {k.id, k.name, k.prefix, k.created_at.to_iso8601(), when(k.last_used_at), when(k.expires_at)};
}
}  // namespace

spur::Handler create(Services& s) {
    return [&s](spur::Request& req, spur::Response& res, spur::Body<KeyIn> in) -> spur::Task<> {
        std::optional<std::uint32_t> days;
        if (in->expires_in_days) days = static_cast<std::uint32_t>(in->expires_in_days->value);
        // Shown once; only its SHA-256 is stored. 32 random bytes: nothing to brute-force.
        std::string secret = "sk_" + spur::random_token(32);
        std::string prefix = secret.substr(0, 11);
        auto key = co_await create_key(s.db, auth::principal(req).user_id, in->name, prefix, auth::key_hash(secret), days);
        res.set("Cache-Control", "no-store");  // the secret is shown this once
        res.status(201).json(KeyCreated{true, out(key), secret});
    };
}

spur::Handler list(Services& s) {
    return [&s](spur::Request& req, spur::Response& res) -> spur::Task<> {
        KeyList reply;
        for (const auto& key : co_await list_keys(s.db, auth::principal(req).user_id)) reply.items.push_back(out(key));
        res.json(reply);
    };
}

spur::Handler remove(Services& s) {
    return [&s](spur::Request& req, spur::Response& res, spur::Path<spur::Int<1>> id) -> spur::Task<> {
        if (!co_await delete_key(s.db, auth::principal(req).user_id, static_cast<std::uint64_t>(*id)))
            throw spur::HttpError(404, "not_found", "No such API key");
        res.status(204).end();
    };
}

}  // namespace app::api_keys
