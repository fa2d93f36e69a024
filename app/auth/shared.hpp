#pragma once
// What the account handlers (handlers.cpp, recovery.cpp) answer and check alike.

#include "auth/contract.hpp"
#include "auth/repository.hpp"

#include <spur/http_error.hpp>

#include <chrono>
#include <string>

namespace app::auth {

/// The account as the API shows it: never the hash.
UserOut user_out(const User& user);

/// 429 too_many_requests with Retry-After (at least 1 s).
spur::HttpError too_many_requests(std::chrono::seconds retry, std::string message);

/// What the type cannot say about a new password: bcrypt reads at most 72 bytes and stops at a
/// NUL. Throws spur::ValidationError naming `/field` of the body.
void check_password_bytes(const std::string& password, const char* field);

}  // namespace app::auth
