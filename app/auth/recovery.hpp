#pragma once
// Account recovery and verified addresses: a password-reset link by mail, and a link that
// proves the account's address. The mails go through the job queue (app/mail/jobs.hpp).

#include "services.hpp"

#include <spur/handler.hpp>

namespace app::auth {

/// POST /api/auth/password-reset {email}: 202 with one body whether the address has an account
/// or not; either way a job is enqueued in one transaction with the lookup (the same database
/// work), and only for an account does it mail a link. 400 validation_error for a malformed
/// address; 429 too_many_requests (Retry-After) when the client address's bucket
/// (RESET_BURST_PER_IP) or the lower-cased address's (MAIL_BURST_PER_ADDRESS) is spent — keyed
/// on the text asked for, so existence changes nothing.
spur::Handler request_password_reset(Services& s);

/// POST /api/auth/password-reset/confirm {token, new_password}: 204. Burns the token, sets the
/// password, ends every token and API key of the account (as a password change) and marks its
/// address verified, in one transaction. 400 invalid_reset_token for an unknown, used or
/// expired token (checked before any hashing, and again by the burn); 400 validation_error for
/// a password register would refuse; 503 overloaded when the hashing queue is full.
spur::Handler confirm_password_reset(Services& s);

/// POST /api/auth/verify-email (signed in, no body): 202; enqueues a verification mail unless
/// the address is verified already. 429 too_many_requests when the account's
/// MAIL_BURST_PER_ADDRESS is spent.
spur::Handler request_verification(Services& s);

/// POST /api/auth/verify-email/confirm {token}: 200 with the account (email_verified true).
/// No sign-in needed: the token is the proof. 400 invalid_verification_token for an unknown,
/// used or expired token.
spur::Handler confirm_verification(Services& s);

}  // namespace app::auth
