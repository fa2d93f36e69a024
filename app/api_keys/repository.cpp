#include "api_keys/repository.hpp"

namespace app::api_keys {

namespace {
constexpr const char* columns = "SELECT id, name, prefix, created_at, last_used_at, expires_at FROM api_keys ";

// A key found by its hash, and whether its last use is old enough to record this one.
struct KeyUse {
    std::uint64_t id = 0;
    std::uint64_t user_id = 0;
    bool stale = false;
};
BOOST_DESCRIBE_STRUCT(KeyUse, (), (id, user_id, stale))
}  // namespace

spur::Task<ApiKey> create_key(spur::mysql::Connection& tx, std::uint64_t user, const std::string& name,
                              const std::string& prefix, const std::string& hash, std::uint32_t days,
                              std::uint32_t generation) {
    // The expiry is computed by the database, on the clock use_key() compares it with.
    auto ins = co_await tx.execute(
        "INSERT INTO api_keys (user_id, name, prefix, key_hash, expires_at, token_generation) "
        "VALUES (?, ?, ?, ?, UTC_TIMESTAMP(3) + INTERVAL ? DAY, ?)",
        user, name, prefix, spur::mysql::Blob(hash), days, generation);
    auto key = co_await tx.query_one_as<ApiKey>(std::string(columns) + "WHERE id = ?", ins.last_insert_id);
    co_return std::move(key.value());
}

spur::Task<std::vector<ApiKey>> list_keys(spur::mysql::Pool& db, std::uint64_t user) {
    co_return co_await db.query_as<ApiKey>(spur::mysql::idempotent,
                                           std::string(columns) + "WHERE user_id = ? ORDER BY id DESC", user);
}

spur::Task<bool> delete_key(spur::mysql::Pool& db, std::uint64_t user, std::uint64_t id) {
    auto r = co_await db.execute("DELETE FROM api_keys WHERE id = ? AND user_id = ?", id, user);
    co_return r.affected_rows > 0;
}

spur::Task<std::optional<std::uint64_t>> use_key(spur::mysql::Pool& db, const std::string& hash) {
    constexpr const char* stale = "(k.last_used_at IS NULL OR k.last_used_at < UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE)";
    auto key = co_await db.query_one_as<KeyUse>(
        spur::mysql::idempotent,
        std::string("SELECT k.id, k.user_id, ") + stale + " AS stale FROM api_keys k "
        "JOIN users u ON u.id = k.user_id WHERE k.key_hash = ? AND k.expires_at > UTC_TIMESTAMP(3) "
        "AND k.token_generation = u.token_generation",
        spur::mysql::Blob(hash));
    if (!key) co_return std::nullopt;
    // The condition again in the UPDATE: of concurrent requests with one key, one writes.
    if (key->stale)
        co_await db.execute(std::string("UPDATE api_keys k SET k.last_used_at = UTC_TIMESTAMP(3) WHERE k.id = ? AND ") + stale,
                            key->id);
    co_return key->user_id;
}

}  // namespace app::api_keys
