#include "auth/repository.hpp"

#include <chrono>

namespace app::auth {

namespace {
constexpr const char* columns =
    "SELECT id, email, name, password_hash, created_at, token_generation, email_verified_at FROM users ";
}  // namespace

spur::Task<std::optional<User>> find_user_by_email(spur::mysql::Pool& db, std::string_view email) {
    co_return co_await db.query_one_as<User>(spur::mysql::idempotent, std::string(columns) + "WHERE email = ?", email);
}

spur::Task<std::optional<User>> find_user_by_id(spur::mysql::Pool& db, std::uint64_t id) {
    co_return co_await db.query_one_as<User>(spur::mysql::idempotent, std::string(columns) + "WHERE id = ?", id);
}

spur::Task<> replace_password_hash(spur::mysql::Pool& db, std::uint64_t id, const std::string& old_hash,
                                   const std::string& new_hash) {
    co_await db.execute("UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?", new_hash, id, old_hash);
}

spur::Task<bool> change_password_hash(spur::mysql::Connection& tx, std::uint64_t id, const std::string& old_hash,
                                      const std::string& new_hash) {
    auto r = co_await tx.execute(
        "UPDATE users SET password_hash = ?, token_generation = token_generation + 1 WHERE id = ? AND password_hash = ?",
        new_hash, id, old_hash);
    co_return r.affected_rows > 0;
}

spur::Task<> end_all_tokens(spur::mysql::Pool& db, std::uint64_t id) {
    co_await db.execute("UPDATE users SET token_generation = token_generation + 1 WHERE id = ?", id);
}

spur::Task<> delete_user(spur::mysql::Pool& db, std::uint64_t id) {
    co_await db.execute("DELETE FROM users WHERE id = ?", id);
}

spur::Task<std::optional<TokenState>> token_state(spur::mysql::Pool& db, std::uint64_t id, const std::string& jti) {
    co_return co_await db.query_one_as<TokenState>(
        spur::mysql::idempotent,
        "SELECT token_generation AS generation, EXISTS(SELECT 1 FROM revoked_tokens WHERE jti = ?) AS revoked "
        "FROM users WHERE id = ?",
        jti, id);
}

spur::Task<std::optional<User>> find_user_by_id(spur::mysql::Connection& tx, std::uint64_t id) {
    co_return co_await tx.query_one_as<User>(std::string(columns) + "WHERE id = ?", id);
}

spur::Task<std::optional<std::uint64_t>> find_user_id_by_email(spur::mysql::Connection& tx, std::string_view email) {
    auto r = co_await tx.execute("SELECT id FROM users WHERE email = ?", email);
    if (r.empty()) co_return std::nullopt;
    co_return r.front()[0].as_uint64();
}

spur::Task<std::uint64_t> create_user(spur::mysql::Connection& tx, const std::string& email,
                                      const std::optional<std::string>& name, const std::string& password_hash) {
    auto ins = co_await tx.execute("INSERT INTO users (email, name, password_hash) VALUES (?, ?, ?)", email, name,
                                   password_hash);
    co_return ins.last_insert_id;
}

spur::Task<> reset_password(spur::mysql::Connection& tx, std::uint64_t id, const std::string& new_hash) {
    co_await tx.execute("UPDATE users SET password_hash = ?, token_generation = token_generation + 1, "
                        "email_verified_at = COALESCE(email_verified_at, UTC_TIMESTAMP(3)) WHERE id = ?",
                        new_hash, id);
}

spur::Task<> mark_email_verified(spur::mysql::Connection& tx, std::uint64_t id) {
    co_await tx.execute("UPDATE users SET email_verified_at = UTC_TIMESTAMP(3) WHERE id = ? AND email_verified_at IS NULL", id);
}

spur::Task<> revoke_token(spur::mysql::Pool& db, const std::string& jti, std::int64_t expires_at) {
    auto when = spur::mysql::DateTime::from_time_point(std::chrono::system_clock::from_time_t(expires_at));
    co_await db.execute("INSERT IGNORE INTO revoked_tokens (jti, expires_at) VALUES (?, ?)", jti, when);
}

spur::Task<std::uint64_t> purge_revocations(spur::mysql::Pool& db) {
    // In batches: one huge DELETE would hold its locks (and, on a cluster, one write set) long.
    std::uint64_t total = 0;
    for (;;) {
        auto r = co_await db.execute("DELETE FROM revoked_tokens WHERE expires_at < UTC_TIMESTAMP(3) LIMIT 1000");
        total += r.affected_rows;
        if (r.affected_rows < 1000) co_return total;
    }
}

}  // namespace app::auth
