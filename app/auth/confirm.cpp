#include "auth/confirm.hpp"

#include <spur/http_error.hpp>
#include <spur/middleware/rate_limit.hpp>
#include <spur/offload.hpp>
#include <spur/password.hpp>

#include <algorithm>
#include <chrono>

namespace app::auth {

namespace {
// (Named apart from auth/handlers.cpp's throttled(): the unity build joins the two files.)
spur::HttpError confirmation_throttled(std::chrono::seconds retry) {
    spur::HttpError e(429, "too_many_requests", "Too many login attempts, try again later");
    e.with_header("Retry-After", std::to_string(std::max<long long>(1, retry.count())));
    return e;
}

InFlight::Ticket one_operation(Services& s, std::uint64_t user_id) {
    const InFlight::Busy running{"password_check_in_progress",
                                 "Another password operation of this account is running; wait for its answer"};
    return s.password_checks.admit(user_id, running, running, "1");  // no overall limit: only the first applies
}
}  // namespace

spur::Task<Confirmed> confirm_password(Services& s, const spur::Request& req, std::uint64_t user_id,
                                       const std::string& password) {
    // A bcrypt per request is what these endpoints cost: one at a time per account, so that
    // many requests of one token cannot queue hashes; then the address's login bucket (many
    // free accounts from one client) and the account's (a stolen token guessing the password).
    InFlight::Ticket operation = one_operation(s, user_id);
    if (auto d = s.login_by_ip.take(spur::middleware::client_key(req.ip())); !d.allowed) throw confirmation_throttled(d.retry_after);
    if (auto d = s.login_by_email.take("id:" + std::to_string(user_id)); !d.allowed) throw confirmation_throttled(d.retry_after);
    auto user = co_await find_user_by_id(s.db, user_id);
    if (!user) throw spur::HttpError(401, "unauthorized", "This account no longer exists");
    const std::string& hash = user->password_hash;
    auto verify_work = [&password, &hash] { return spur::verify_password(password, hash); };
    if (!co_await spur::offload(s.account, verify_work))
        throw spur::HttpError(403, "invalid_credentials", "The password is not this account's password");
    // Named first: GCC 12 destroys an aggregate temporary made inside a coroutine's
    // co_await/co_return expression twice.
    Confirmed confirmed{std::move(*user), std::move(operation)};
    co_return std::move(confirmed);
}

}  // namespace app::auth
