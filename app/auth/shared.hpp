#pragma once
// What the account handlers (handlers.cpp, recovery.cpp) answer and check alike.

#include "auth/contract.hpp"
#include "auth/repository.hpp"

#include <spur/http_error.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace app::auth {

/// The account as the API shows it: never the hash.
UserOut user_out(const User& user);

/// 429 too_many_requests with Retry-After (at least 1 s).
spur::HttpError too_many_requests(std::chrono::seconds retry, std::string message);

/// normalized_email() of an address mail can be sent to: printable ASCII only. A control
/// character (NUL, ESC…) is never part of an address and the mailer refuses it as header
/// injection; a non-ASCII one needs SMTPUTF8, which the mailer does not speak. Such an account
/// could never confirm its address nor reset its password (its mail jobs die at once), so it
/// is refused up front: spur::ValidationError for /email.
std::string mailable_email(std::string_view email);

/// What the type cannot say about a new password: bcrypt reads at most 72 bytes and stops at a
/// NUL. Throws spur::ValidationError naming `/field` of the body.
void check_password_bytes(const std::string& password, const char* field);

}  // namespace app::auth
