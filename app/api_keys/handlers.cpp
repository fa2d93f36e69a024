#include "api_keys/handlers.hpp"

#include "api_keys/repository.hpp"
#include "auth/guard.hpp"
#include "validation.hpp"

#include <spur/random.hpp>

#include <boost/json/array.hpp>

namespace app::api_keys {

namespace {
boost::json::object to_json(const ApiKey& k) {
    return {{"id", k.id},
            {"name", k.name},
            {"prefix", k.prefix},
            {"created_at", k.created_at.to_iso8601()},
            {"last_used_at", k.last_used_at ? boost::json::value(k.last_used_at->to_iso8601()) : boost::json::value(nullptr)},
            {"expires_at", k.expires_at ? boost::json::value(k.expires_at->to_iso8601()) : boost::json::value(nullptr)}};
}
}  // namespace

spur::Handler create(Services& s) {
    return [&s](spur::Request& req, spur::Response& res) -> spur::Task<> {
        const auto& body = body_object(req.json());
        auto name = required_string(body, "name");
        auto length = utf8_length(name);
        if (!length || *length < 1 || *length > 100) invalid("name must be 1 to 100 characters");
        std::optional<std::uint32_t> days;
        if (auto v = body.find("expires_in_days"); v != body.end() && !v->value().is_null()) {
            if (!v->value().is_int64() || v->value().as_int64() < 1 || v->value().as_int64() > 3650)
                invalid("expires_in_days must be a whole number of days from 1 to 3650");
            days = static_cast<std::uint32_t>(v->value().as_int64());
        }
        // Shown once; only its SHA-256 is stored. 32 random bytes: nothing to brute-force.
        std::string secret = "sk_" + spur::random_token(32);
        std::string prefix = secret.substr(0, 11);
        auto key = co_await create_key(s.db, auth::principal(req).user_id, std::string(name), prefix, auth::key_hash(secret), days);
        res.set("Cache-Control", "no-store");  // the secret is shown this once
        res.status(201).json({{"success", true}, {"key", to_json(key)}, {"secret", secret}});
    };
}

spur::Handler list(Services& s) {
    return [&s](spur::Request& req, spur::Response& res) -> spur::Task<> {
        boost::json::array items;
        for (const auto& key : co_await list_keys(s.db, auth::principal(req).user_id)) items.push_back(to_json(key));
        res.json({{"success", true}, {"items", std::move(items)}});
    };
}

spur::Handler remove(Services& s) {
    return [&s](spur::Request& req, spur::Response& res) -> spur::Task<> {
        auto id = parse_id(req.param("id"));
        if (!id || !co_await delete_key(s.db, auth::principal(req).user_id, *id))
            throw spur::HttpError(404, "not_found", "No such API key");
        res.status(204).end();
    };
}

}  // namespace app::api_keys
