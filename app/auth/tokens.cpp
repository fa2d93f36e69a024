#include "auth/tokens.hpp"

#include <spur/random.hpp>

#include <openssl/sha.h>

namespace app::auth {

namespace {
const char* purpose_name(TokenPurpose purpose) noexcept { return purpose == TokenPurpose::reset ? "reset" : "verify"; }

// A token's SHA-256 only when it could be one of ours: 43 base64url characters. Anything else
// (empty, a whole document) finds nothing without a query's worth of hashing.
bool plausible(std::string_view token) noexcept {
    if (token.size() != 43) return false;
    for (char c : token)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    return true;
}
}  // namespace

std::chrono::minutes token_lifetime(TokenPurpose purpose) noexcept {
    return purpose == TokenPurpose::reset ? std::chrono::minutes(30) : std::chrono::minutes(48 * 60);
}

std::string token_hash(std::string_view token) {
    static constexpr char hex[] = "0123456789abcdef";
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
    std::string out;
    out.reserve(2 * sizeof digest);
    for (unsigned char b : digest) {
        out += hex[b >> 4];
        out += hex[b & 15];
    }
    return out;
}

spur::Task<std::string> issue_token(spur::mysql::Pool& db, std::uint64_t user, TokenPurpose purpose) {
    std::string token = spur::random_token(32);  // 256 bits: no guessing, no throttle needed on confirm
    const std::string hash = token_hash(token);
    const long long minutes = token_lifetime(purpose).count();
    auto work = [&](spur::mysql::Connection& tx) -> spur::Task<> {
        if (purpose == TokenPurpose::reset) co_await void_tokens(tx, user, purpose);
        // The expiry on the database's clock, which burn_token() compares it with.
        co_await tx.execute("INSERT INTO account_tokens (user_id, purpose, token_hash, expires_at, created_at) "
                            "VALUES (?, ?, ?, UTC_TIMESTAMP(3) + INTERVAL ? MINUTE, UTC_TIMESTAMP(3))",
                            user, purpose_name(purpose), hash, minutes);
    };
    co_await db.transaction(work);
    co_return token;
}

spur::Task<std::uint64_t> tokens_issued_last_hour(spur::mysql::Pool& db, std::uint64_t user, TokenPurpose purpose) {
    auto r = co_await db.execute(spur::mysql::idempotent,
                                 "SELECT COUNT(*) FROM account_tokens WHERE user_id = ? AND purpose = ? "
                                 "AND created_at > UTC_TIMESTAMP(3) - INTERVAL 1 HOUR",
                                 user, purpose_name(purpose));
    co_return r.empty() ? 0 : r.front()[0].as_uint64();
}

spur::Task<std::optional<std::uint64_t>> token_owner(spur::mysql::Pool& db, TokenPurpose purpose, std::string_view token) {
    if (!plausible(token)) co_return std::nullopt;
    auto r = co_await db.execute(spur::mysql::idempotent,
                                 "SELECT user_id FROM account_tokens WHERE token_hash = ? AND purpose = ? "
                                 "AND used_at IS NULL AND expires_at > UTC_TIMESTAMP(3)",
                                 token_hash(token), purpose_name(purpose));
    if (r.empty()) co_return std::nullopt;
    co_return r.front()[0].as_uint64();
}

spur::Task<std::optional<std::uint64_t>> burn_token(spur::mysql::Connection& tx, TokenPurpose purpose,
                                                    std::string_view token) {
    if (!plausible(token)) co_return std::nullopt;
    const std::string hash = token_hash(token);
    // The claim is the UPDATE's own condition: a second use, concurrent or later, changes no row.
    auto burnt = co_await tx.execute("UPDATE account_tokens SET used_at = UTC_TIMESTAMP(3) WHERE token_hash = ? "
                                     "AND purpose = ? AND used_at IS NULL AND expires_at > UTC_TIMESTAMP(3)",
                                     hash, purpose_name(purpose));
    if (burnt.affected_rows != 1) co_return std::nullopt;
    auto r = co_await tx.execute("SELECT user_id FROM account_tokens WHERE token_hash = ?", hash);
    if (r.empty()) co_return std::nullopt;
    co_return r.front()[0].as_uint64();
}

spur::Task<> void_tokens(spur::mysql::Connection& tx, std::uint64_t user, TokenPurpose purpose) {
    co_await tx.execute("UPDATE account_tokens SET used_at = UTC_TIMESTAMP(3) "
                        "WHERE user_id = ? AND purpose = ? AND used_at IS NULL",
                        user, purpose_name(purpose));
}

spur::Task<std::uint64_t> purge_tokens(spur::mysql::Pool& db) {
    // In batches, as purge_revocations: one huge DELETE would hold its locks long.
    std::uint64_t total = 0;
    for (;;) {
        auto r = co_await db.execute("DELETE FROM account_tokens WHERE expires_at < UTC_TIMESTAMP(3) - INTERVAL 1 DAY LIMIT 1000");
        total += r.affected_rows;
        if (r.affected_rows < 1000) co_return total;
    }
}

}  // namespace app::auth
