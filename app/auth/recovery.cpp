#include "auth/recovery.hpp"

#include "idempotency.hpp"
#include "auth/contract.hpp"
#include "auth/guard.hpp"
#include "auth/repository.hpp"
#include "auth/shared.hpp"
#include "auth/tokens.hpp"
#include "mail/jobs.hpp"
#include "validation.hpp"

#include <spur/contract/contract.hpp>
#include <spur/middleware/rate_limit.hpp>
#include <spur/offload.hpp>
#include <spur/password.hpp>

namespace app::auth {

namespace {
// One answer for every address: whether it has an account shows neither here nor in the time
// it takes (both paths look the address up and enqueue a job in one transaction).
constexpr const char* reset_accepted =
    "If an account has this address, a link to reset its password is on its way; it works for 30 minutes";

spur::HttpError invalid_reset_token() {
    return spur::HttpError(400, "invalid_reset_token",
                           "This reset link is unknown, used or expired; ask for a new one");
}

spur::HttpError invalid_verification_token() {
    return spur::HttpError(400, "invalid_verification_token",
                           "This verification link is unknown, used or expired; ask for a new one");
}
}  // namespace

spur::Handler request_password_reset(Services& s) {
    return [&s](spur::Request& req, spur::Response& res, spur::Body<PasswordResetIn> in) -> spur::Task<> {
        const std::string email = mailable_email(in->email);  // 400 for a malformed one (at most 254 bytes)
        // Both buckets are keyed on what was asked, never on what exists: a 429 says nothing.
        if (auto d = s.reset_by_ip.take(spur::middleware::client_key(req.ip())); !d.allowed)
            throw too_many_requests(d.retry_after, "Too many password-reset requests, try again later");
        if (auto d = s.reset_by_email.take(email); !d.allowed)
            throw too_many_requests(d.retry_after, "Too many password-reset requests, try again later");
        // The job's payload is the account's id (null for none), never a token: the job makes
        // the token when it runs. It commits with the lookup: the outbox.
        auto enqueue = [&](spur::mysql::Connection& tx) -> spur::Task<> {
            const std::optional<std::uint64_t> user = co_await find_user_id_by_email(tx, email);
            co_await mail::enqueue_password_reset(s, tx, user);
        };
        co_await s.db.transaction(enqueue);
        res.status(202).json(Accepted{true, reset_accepted});
    };
}

spur::Handler confirm_password_reset(Services& s) {
    return [&s](spur::Request& req, spur::Response& res, spur::Body<PasswordResetConfirmIn> in) -> spur::Task<> {
        const std::string token = std::move(in->token);
        const std::string fresh = std::move(in->new_password);
        check_password_bytes(fresh, "new_password");
        // A read first, so that a token that cannot work buys no bcrypt; the burn below decides.
        const std::optional<std::uint64_t> owner = co_await token_owner(s.db, TokenPurpose::reset, token);
        if (!owner) throw invalid_reset_token();
        const unsigned cost = s.config.bcrypt_cost;
        auto hash_work = [&fresh, cost] { return spur::hash_password(fresh, cost); };
        const std::string hash = co_await spur::offload(s.account, hash_work);
        std::optional<std::uint64_t> user;
        auto reset = [&](spur::mysql::Connection& tx) -> spur::Task<> {
            user = co_await burn_token(tx, TokenPurpose::reset, token);
            if (!user) co_return;  // used or expired since the read: nothing changes
            co_await reset_password(tx, *user, hash);             // and every token and key ends
            co_await void_tokens(tx, *user, TokenPurpose::reset);  // no other reset link works either
            co_await mark_applied(s, tx, req);                     // with the new password, the Idempotency-Key
        };
        co_await s.db.transaction(reset);
        if (!user) throw invalid_reset_token();
        req.log().info("password reset", {{"user_id", *user}});
        res.status(204).end();
    };
}

spur::Handler request_verification(Services& s) {
    return [&s](spur::Request&, spur::Response& res, Auth<Principal> caller) -> spur::Task<> {
        if (auto d = s.verify_by_account.take("id:" + std::to_string(caller->user_id)); !d.allowed)
            throw too_many_requests(d.retry_after, "Too many verification mails asked for, try again later");
        auto user = co_await find_user_by_id(s.db, caller->user_id);
        if (!user) throw spur::HttpError(401, "unauthorized", "This account no longer exists");
        if (user->email_verified_at) {
            res.status(202).json(Accepted{true, "The address is verified already"});
            co_return;
        }
        co_await mail::enqueue_verification(s, user->id);
        res.status(202).json(Accepted{true, "A verification link is on its way to " + user->email});
    };
}

spur::Handler confirm_verification(Services& s) {
    return [&s](spur::Request& req, spur::Response& res, spur::Body<VerifyEmailConfirmIn> in) -> spur::Task<> {
        const std::string token = std::move(in->token);
        std::optional<User> user;
        auto verify = [&](spur::mysql::Connection& tx) -> spur::Task<> {
            user.reset();
            const std::optional<std::uint64_t> id = co_await burn_token(tx, TokenPurpose::verify, token);
            if (!id) co_return;
            co_await mark_email_verified(tx, *id);
            user = co_await find_user_by_id(tx, *id);  // read in the transaction: what it wrote
        };
        co_await s.db.transaction(verify);
        if (!user) throw invalid_verification_token();
        req.log().info("email verified", {{"user_id", user->id}});
        res.json(UserReply{true, user_out(*user)});
    };
}

}  // namespace app::auth
