#pragma once
// All SQL for one-time account tokens (migration 012's account_tokens): the secret of a
// password-reset or verification link. Only a token's SHA-256 is stored; a token is used at
// most once, and only until it expires.

#include <spur/mysql/pool.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace app::auth {

enum class TokenPurpose { reset, verify };

/// How long a link works: 30 minutes to reset a password, 48 hours to verify an address.
std::chrono::minutes token_lifetime(TokenPurpose purpose) noexcept;

/// The stored form of a token: its SHA-256 as 64 lowercase hex digits.
std::string token_hash(std::string_view token);

/// A fresh token (32 random bytes, base64url) for `user`, stored hashed, expiring after
/// token_lifetime(purpose) on the database's clock. A reset token voids the account's earlier
/// unused reset tokens in the same transaction: only the newest reset link works. Earlier
/// verification links stay valid (any of them proves the address). Throws spur::mysql::Error.
spur::Task<std::string> issue_token(spur::mysql::Pool& db, std::uint64_t user, TokenPurpose purpose);

/// How many tokens of `purpose` the account was given in the last hour (a silent cap on the
/// mails one account receives, however its address was spelt in the requests).
spur::Task<std::uint64_t> tokens_issued_last_hour(spur::mysql::Pool& db, std::uint64_t user, TokenPurpose purpose);

/// The account of `token` if it is of `purpose`, unused and unexpired; nullopt otherwise. Only
/// reads: a cheap check before expensive work (bcrypt), not a claim — burn_token() claims.
spur::Task<std::optional<std::uint64_t>> token_owner(spur::mysql::Pool& db, TokenPurpose purpose, std::string_view token);

/// In the caller's transaction, marks `token` used if it is of `purpose`, unused and unexpired
/// (a compare-and-set: of two concurrent uses one wins, on a Galera cluster too), and returns
/// its account; nullopt when it was not usable. Throws spur::mysql::Error.
spur::Task<std::optional<std::uint64_t>> burn_token(spur::mysql::Connection& tx, TokenPurpose purpose,
                                                    std::string_view token);

/// In the caller's transaction, voids the account's unused tokens of `purpose` (after a
/// password reset, no other reset link may still work).
spur::Task<> void_tokens(spur::mysql::Connection& tx, std::uint64_t user, TokenPurpose purpose);

/// Deletes tokens that expired more than a day ago (used or not); returns how many.
spur::Task<std::uint64_t> purge_tokens(spur::mysql::Pool& db);

}  // namespace app::auth
