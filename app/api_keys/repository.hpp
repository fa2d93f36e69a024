#pragma once
// All SQL for API keys. Takes and returns plain structs; handlers make the JSON.

#include <spur/mysql/pool.hpp>
#include <spur/mysql/value.hpp>

#include <boost/describe/class.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace app::api_keys {

/// A key as its owner sees it: never the secret, nor its hash.
struct ApiKey {
    std::uint64_t id = 0;
    std::string name;
    std::string prefix;  ///< the first characters of the secret, to tell keys apart
    spur::mysql::DateTime created_at;
    std::optional<spur::mysql::DateTime> last_used_at;
    spur::mysql::DateTime expires_at;
};
BOOST_DESCRIBE_STRUCT(ApiKey, (), (id, name, prefix, created_at, last_used_at, expires_at))

/// Inserts a key (its SHA-256 only), valid for `days` days and while the account's token
/// generation is still `generation`, and returns it.
spur::Task<ApiKey> create_key(spur::mysql::Connection& tx, std::uint64_t user, const std::string& name,
                              const std::string& prefix, const std::string& hash, std::uint32_t days,
                              std::uint32_t generation);
/// The user's keys, newest first.
spur::Task<std::vector<ApiKey>> list_keys(spur::mysql::Pool& db, std::uint64_t user);
/// Deletes the user's key; false if there is no such key of theirs.
spur::Task<bool> delete_key(spur::mysql::Pool& db, std::uint64_t user, std::uint64_t id);

/// Whose key has this SHA-256; nullopt for an unknown, revoked or expired key, and for one made
/// before the account's last "log out everywhere" or password change. Marks it used now, unless
/// it was marked less than a minute ago (a key used per request costs no write per request).
spur::Task<std::optional<std::uint64_t>> use_key(spur::mysql::Pool& db, const std::string& hash);

}  // namespace app::api_keys
