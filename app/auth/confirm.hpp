#pragma once
// Re-entering one's password to confirm a sensitive operation (a password change, deleting the
// account, creating an API key): bcrypt on behalf of a signed-in user, bounded like login.

#include "auth/repository.hpp"
#include "in_flight.hpp"
#include "services.hpp"

#include <spur/request.hpp>

#include <cstdint>
#include <string>

namespace app::auth {

/// The account, checked; the ticket is the account's one password operation and ends when it
/// is destroyed, so keep it for the whole operation (a second hash, the write).
struct Confirmed {
    User user;
    InFlight::Ticket operation;
};

/// Checks `password` against the account's hash. In this order, each refusal immediate:
/// 429 password_check_in_progress while another password operation of the account runs; 429
/// too_many_requests (Retry-After) when the client address's login bucket or the account's is
/// spent; 401 if the account is gone; 403 invalid_credentials for a wrong password. 503
/// overloaded when the hashing queue is full.
spur::Task<Confirmed> confirm_password(Services& s, const spur::Request& req, std::uint64_t user_id,
                                       const std::string& password);

}  // namespace app::auth
