#pragma once
// All SQL for users and revoked tokens. Takes and returns plain structs; handlers make the JSON.

#include <spur/mysql/pool.hpp>
#include <spur/mysql/value.hpp>

#include <boost/describe/class.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace app::auth {

struct User {
    std::uint64_t id = 0;
    std::string email;
    std::optional<std::string> name;
    std::string password_hash;
    spur::mysql::DateTime created_at;
    std::uint32_t token_generation = 0;  ///< tokens carry it; raising it ends every older one
    std::optional<spur::mysql::DateTime> email_verified_at;  ///< when a mailed link proved the address
};
BOOST_DESCRIBE_STRUCT(User, (), (id, email, name, password_hash, created_at, token_generation, email_verified_at))

/// What the token guard needs to know, in one round trip.
struct TokenState {
    std::uint32_t generation = 0;
    bool revoked = false;  ///< this token was logged out
};
BOOST_DESCRIBE_STRUCT(TokenState, (), (generation, revoked))

spur::Task<std::optional<User>> find_user_by_email(spur::mysql::Pool& db, std::string_view email);
spur::Task<std::optional<User>> find_user_by_id(spur::mysql::Pool& db, std::uint64_t id);
/// The same on `tx`, in its transaction (what it wrote included).
spur::Task<std::optional<User>> find_user_by_id(spur::mysql::Connection& tx, std::uint64_t id);
/// The id of the account with this address, on `tx` (in its transaction); nullopt for none.
spur::Task<std::optional<std::uint64_t>> find_user_id_by_email(spur::mysql::Connection& tx, std::string_view email);
/// Inserts a user in the caller's transaction and returns its id; throws spur::mysql::Error with
/// duplicate_key() if the email is taken.
spur::Task<std::uint64_t> create_user(spur::mysql::Connection& tx, const std::string& email,
                                      const std::optional<std::string>& name, const std::string& password_hash);
/// In the caller's transaction: sets the password hash, ends every token and API key issued so
/// far (raises the token generation) and marks the address verified (a mailed link proved it).
spur::Task<> reset_password(spur::mysql::Connection& tx, std::uint64_t id, const std::string& new_hash);
/// In the caller's transaction: marks the address verified, if it was not already.
spur::Task<> mark_email_verified(spur::mysql::Connection& tx, std::uint64_t id);
/// Replaces the password hash if it is still `old_hash` (a concurrent change wins).
spur::Task<> replace_password_hash(spur::mysql::Pool& db, std::uint64_t id, const std::string& old_hash,
                                   const std::string& new_hash);
/// Sets a new password hash if the stored one is still `old_hash`, and ends every token issued
/// so far. False if the password changed meanwhile (or the account is gone).
spur::Task<bool> change_password_hash(spur::mysql::Connection& tx, std::uint64_t id, const std::string& old_hash,
                                      const std::string& new_hash);
/// Ends every token issued so far ("log out everywhere").
spur::Task<> end_all_tokens(spur::mysql::Pool& db, std::uint64_t id);
/// Deletes the account; its texts and API keys go with it (foreign keys cascade).
spur::Task<> delete_user(spur::mysql::Pool& db, std::uint64_t id);
/// The account's token generation and whether `jti` was logged out; nullopt if the account is gone.
spur::Task<std::optional<TokenState>> token_state(spur::mysql::Pool& db, std::uint64_t id, const std::string& jti);
/// Records a logged-out token until it expires (purge_revocations forgets it then).
spur::Task<> revoke_token(spur::mysql::Pool& db, const std::string& jti, std::int64_t expires_at);
/// Deletes revocations of tokens that have expired anyway; returns how many.
spur::Task<std::uint64_t> purge_revocations(spur::mysql::Pool& db);

}  // namespace app::auth
