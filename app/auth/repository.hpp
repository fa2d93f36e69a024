#pragma once
// All SQL for users and revoked tokens. Takes and returns plain structs; handlers make the JSON.

#include <spur/mysql/pool.hpp>
#include <spur/mysql/value.hpp>

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
};

spur::Task<std::optional<User>> find_user_by_email(spur::mysql::Pool& db, std::string_view email);
spur::Task<std::optional<User>> find_user_by_id(spur::mysql::Pool& db, std::uint64_t id);
/// Inserts a user; throws spur::mysql::Error with duplicate_key() if the email is taken.
spur::Task<User> create_user(spur::mysql::Pool& db, const std::string& email, const std::optional<std::string>& name,
                             const std::string& password_hash);
/// Replaces the password hash if it is still `old_hash` (a concurrent change wins).
spur::Task<> replace_password_hash(spur::mysql::Pool& db, std::uint64_t id, const std::string& old_hash,
                                   const std::string& new_hash);
/// Records a logged-out token until it expires (and forgets expired ones).
spur::Task<> revoke_token(spur::mysql::Pool& db, const std::string& jti, std::int64_t expires_at);
spur::Task<bool> token_revoked(spur::mysql::Pool& db, const std::string& jti);

}  // namespace app::auth
