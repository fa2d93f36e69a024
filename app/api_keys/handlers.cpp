#include "api_keys/handlers.hpp"

#include "api_keys/repository.hpp"
#include "auth/guard.hpp"
#include "validation.hpp"

#include <spur/random.hpp>

namespace app::api_keys {

spur::Handler create(Services& s) {
    return [&s](spur::Request& req, spur::Response& res) -> spur::Task<> {
        const auto& body = body_object(req.json());
        auto name = required_string(body, "name");
        auto length = utf8_length(name);
        if (!length || *length < 1 || *length > 100) invalid("name must be 1 to 100 characters");
        // Shown once; only its SHA-256 is stored. 32 random bytes: nothing to brute-force.
        std::string secret = "sk_" + spur::random_token(32);
        std::string prefix = secret.substr(0, 11);
        auto key = co_await create_key(s.db, auth::principal(req).user_id, std::string(name), prefix, auth::key_hash(secret));
        res.status(201).json({{"success", true}, {"key", key}, {"secret", secret}});
    };
}

spur::Handler list(Services& s) {
    return [&s](spur::Request& req, spur::Response& res) -> spur::Task<> {
        auto items = co_await list_keys(s.db, auth::principal(req).user_id);
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
