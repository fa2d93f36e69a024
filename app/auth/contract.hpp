#pragma once
// /api/auth on the wire: what each endpoint reads and answers (typed, validated, documented).

#include <spur/types.hpp>

#include <boost/describe/class.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace app::auth {

struct RegisterIn {
    std::string email;  // canonicalised, then checked (canonical_email): not a plain format
    spur::String<8, 72> password;  // and at most 72 bytes, bcrypt's limit
    std::optional<spur::String<0, 255>> name;
};
BOOST_DESCRIBE_STRUCT(RegisterIn, (), (email, password, name))

struct LoginIn {
    std::string email;
    std::string password;
};
BOOST_DESCRIBE_STRUCT(LoginIn, (), (email, password))

struct PasswordChangeIn {
    std::string current_password;
    spur::String<8, 72> new_password;
};
BOOST_DESCRIBE_STRUCT(PasswordChangeIn, (), (current_password, new_password))

struct PasswordConfirmIn {
    std::string password;
};
BOOST_DESCRIBE_STRUCT(PasswordConfirmIn, (), (password))

/// POST /api/auth/password-reset: the address to send a reset link to, if it has an account.
struct PasswordResetIn {
    std::string email;  // canonicalised, then checked, as for register
};
BOOST_DESCRIBE_STRUCT(PasswordResetIn, (), (email))

/// POST /api/auth/password-reset/confirm: the token of the mail's link and the new password.
struct PasswordResetConfirmIn {
    spur::String<1, 256> token;
    spur::String<8, 72> new_password;  // and at most 72 bytes, as for register
};
BOOST_DESCRIBE_STRUCT(PasswordResetConfirmIn, (), (token, new_password))

/// POST /api/auth/verify-email/confirm: the token of the verification mail's link.
struct VerifyEmailConfirmIn {
    spur::String<1, 256> token;
};
BOOST_DESCRIBE_STRUCT(VerifyEmailConfirmIn, (), (token))

/// 202: the request is taken; what happens next (a mail, perhaps) happens in the background.
struct Accepted {
    bool success = true;
    std::string message;
};
BOOST_DESCRIBE_STRUCT(Accepted, (), (success, message))

/// A user as the API shows it — never the hash.
struct UserOut {
    std::uint64_t id = 0;
    std::string email;
    std::optional<std::string> name;
    spur::DateTime created_at;
    bool email_verified = false;  ///< the address received a verification (or reset) link and it was used
};
BOOST_DESCRIBE_STRUCT(UserOut, (), (id, email, name, created_at, email_verified))

struct UserReply {
    bool success = true;
    UserOut user;
};
BOOST_DESCRIBE_STRUCT(UserReply, (), (success, user))

struct TokenReply {
    bool success = true;
    UserOut user;
    std::string token;
    std::int64_t expires_in = 0;  ///< seconds
};
BOOST_DESCRIBE_STRUCT(TokenReply, (), (success, user, token, expires_in))

}  // namespace app::auth
