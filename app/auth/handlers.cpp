#include "auth/handlers.hpp"

#include "idempotency.hpp"
#include "auth/confirm.hpp"
#include "auth/contract.hpp"
#include "auth/guard.hpp"
#include "auth/repository.hpp"
#include "auth/shared.hpp"
#include "mail/jobs.hpp"
#include "validation.hpp"

#include <spur/contract/contract.hpp>
#include <spur/mysql/error.hpp>
#include <spur/offload.hpp>
#include <spur/password.hpp>
#include <spur/random.hpp>

#include <chrono>

namespace app::auth {

namespace {
UserOut out(const User& u) { return user_out(u); }

spur::HttpError bad_credentials() { return spur::HttpError(401, "invalid_credentials", "Invalid email or password"); }

spur::HttpError throttled(std::chrono::seconds retry) {
    return too_many_requests(retry, "Too many login attempts, try again later");
}

spur::CookieOptions session_cookie_options(const Services& s, const spur::Request& req) {
    spur::CookieOptions o;
    o.http_only = true;  // never readable by the page's JavaScript
    o.same_site = spur::SameSite::strict;
    o.secure = req.secure();  // and then the __Host- name (session_cookie), which requires it with Path=/
    o.max_age = s.config.jwt_ttl;
    return o;
}

// A request the browser session made: the cookie, and no Authorization header.
bool by_cookie(const spur::Request& req) { return req.header("Authorization").empty() && req.cookie(session_cookie(req)); }

void end_browser_session(const Services& s, const spur::Request& req, spur::Response& res) {
    if (req.cookie(session_cookie(req))) res.clear_cookie(session_cookie(req), session_cookie_options(s, req));
}

std::string signed_token(Services& s, const User& user) {
    const auto now = std::chrono::system_clock::now();
    const std::int64_t iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    const std::int64_t ttl = s.config.jwt_ttl.count();
    return s.jwt.sign({{"sub", std::to_string(user.id)},
                       {"iat", iat},
                       {"exp", iat + ttl},
                       {"jti", spur::random_uuid()},
                       {"gen", user.token_generation}});
}

// A signed token for `user`, in its current generation; the fields login and a password
// change answer with. The response must not be cached: it carries the token. A browser
// session gets the new token in its cookie as well.
void answer_with_token(Services& s, const spur::Request& req, spur::Response& res, const User& user) {
    std::string token = signed_token(s, user);
    if (by_cookie(req)) res.cookie(session_cookie(req), token, session_cookie_options(s, req));
    res.set("Cache-Control", "private, no-store");
    res.json(TokenReply{true, out(user), std::move(token), s.config.jwt_ttl.count()});
}

spur::HttpError email_taken() { return spur::HttpError(409, "email_taken", "An account with this email already exists"); }
// Checks an email and password, with both throttles and the same work for unknown
// addresses; upgrades the hash if BCRYPT_COST rose. Throws 401 or 429.
spur::Task<User> authenticate(Services& s, const spur::Request& req, LoginIn& in) {
    if (auto d = s.login_by_ip.take(spur::middleware::client_key(req.ip())); !d.allowed) throw throttled(d.retry_after);
    // The same canonical form as register: "Ada@X.test " and "ada@x.test" are one
    // account and share one throttle bucket.
    std::string email = canonical_email(in.email);
    // No stored address is longer (register refuses them), and a throttle key stays small.
    if (email.size() > 254) throw bad_credentials();

    auto user = co_await find_user_by_email(s.db, email);
    // The lookup goes through the column's collation, which also equates accents and case
    // beyond ASCII ("üser@x.test" finds "user@x.test"): an account's bucket is keyed on its
    // id, so no spelling of its address gets a fresh one. Unknown addresses by their text.
    const std::string bucket = user ? "id:" + std::to_string(user->id) : "email:" + email;
    if (auto d = s.login_by_email.take(bucket); !d.allowed) throw throttled(d.retry_after);
    // Unknown emails verify against a dummy hash too: same work, same time, same answer.
    std::string password = std::move(in.password);
    const std::string& hash = user ? user->password_hash : s.dummy_hash;
    auto verify_work = [&password, &hash] { return spur::verify_password(password, hash); };
    const bool ok = co_await spur::offload(s.sign_in, verify_work);
    if (!user || !ok) {
        // The client's address (behind a trusted proxy, the one it forwarded): what an operator
        // blocks, or feeds to fail2ban, when one address guesses passwords.
        req.log().warn("login failed", {{"user_id", user ? boost::json::value(user->id) : boost::json::value(nullptr)},
                                        {"client", boost::json::value(boost::json::string_view(req.ip()))}});
        throw bad_credentials();
    }
    // BCRYPT_COST was raised since this hash was made: upgrade it now that we have the password.
    if (spur::password_needs_rehash(user->password_hash, s.config.bcrypt_cost)) {
        const unsigned cost = s.config.bcrypt_cost;
        auto rehash_work = [&password, cost] { return spur::hash_password(password, cost); };
        std::string fresh = co_await spur::offload(s.sign_in, rehash_work);
        co_await replace_password_hash(s.db, user->id, user->password_hash, fresh);
    }

    co_return std::move(*user);
}

}  // namespace

spur::Handler register_user(Services& s) {
    return [&s](spur::Request& req, spur::Response& res, spur::Body<RegisterIn> in) -> spur::Task<> {
        std::string email = mailable_email(in->email);
        std::string password = std::move(in->password);
        check_password_bytes(password, "password");
        std::optional<std::string> name;
        if (in->name) name = std::move(*in->name);
        // Everything cheap first: the throttle, then whether the address is taken — bcrypt
        // is the expensive part, and a flood of sign-ups must not buy it for free.
        if (auto d = s.register_by_ip.take(spur::middleware::client_key(req.ip())); !d.allowed) throw throttled(d.retry_after);
        if (co_await find_user_by_email(s.db, email)) throw email_taken();
        const unsigned cost = s.config.bcrypt_cost;
        auto hash_work = [&password, cost] { return spur::hash_password(password, cost); };
        std::string hash = co_await spur::offload(s.sign_in, hash_work);
        // The account and its verification mail's job commit together (the outbox): no account
        // without its mail, no mail for an account that was rolled back.
        std::optional<User> user;
        auto create = [&](spur::mysql::Connection& tx) -> spur::Task<> {
            const std::uint64_t id = co_await create_user(tx, email, name, hash);
            co_await mail::enqueue_verification(s, tx, id);
            co_await mark_applied(s, tx, req);  // with the account, its Idempotency-Key
            user = co_await find_user_by_id(tx, id);
        };
        try {
            co_await s.db.transaction(create);
        } catch (const spur::mysql::Error& e) {
            if (!e.duplicate_key()) throw;
            user.reset();
        }
        if (!user) throw email_taken();  // registered meanwhile
        req.log().info("user registered", {{"user_id", user->id}});
        res.set("Cache-Control", "private, no-store");
        res.status(201).json(UserReply{true, out(*user)});
    };
}

spur::Handler login(Services& s) {
    return [&s](spur::Request& req, spur::Response& res, spur::Body<LoginIn> in) -> spur::Task<> {
        User user = co_await authenticate(s, req, *in);
        answer_with_token(s, req, res, user);
    };
}

spur::Handler start_session(Services& s) {
    return [&s](spur::Request& req, spur::Response& res, spur::Body<LoginIn> in) -> spur::Task<> {
        User user = co_await authenticate(s, req, *in);
        // The token goes into an HttpOnly cookie only: the page's JavaScript never sees it.
        res.cookie(session_cookie(req), signed_token(s, user), session_cookie_options(s, req));
        res.set("Cache-Control", "private, no-store");
        res.json(UserReply{true, out(user)});
    };
}

spur::Handler logout(Services& s) {
    return [&s](spur::Request& req, spur::Response& res, Auth<Principal> caller) -> spur::Task<> {
        const Principal& p = *caller;
        co_await revoke_token(s.db, p.jti, p.expires_at);
        end_browser_session(s, req, res);
        res.status(204).end();
    };
}

spur::Handler logout_all(Services& s) {
    return [&s](spur::Request& req, spur::Response& res, Auth<Principal> caller) -> spur::Task<> {
        co_await end_all_tokens(s.db, caller->user_id);
        end_browser_session(s, req, res);
        res.status(204).end();
    };
}

spur::Handler change_password(Services& s) {
    return [&s](spur::Request& req, spur::Response& res, Auth<Principal> caller, spur::Body<PasswordChangeIn> in) -> spur::Task<> {
        std::string current = std::move(in->current_password);
        std::string fresh = std::move(in->new_password);
        check_password_bytes(fresh, "new_password");
        // Kept to the end: the account's one password operation covers the second hash and the write.
        Confirmed confirmed = co_await confirm_password(s, req, caller->user_id, current);
        const User& user = confirmed.user;
        const unsigned cost = s.config.bcrypt_cost;
        auto hash_work = [&fresh, cost] { return spur::hash_password(fresh, cost); };
        std::string hash = co_await spur::offload(s.account, hash_work);
        // Compare-and-set: of two concurrent changes one wins, the other is told so. The
        // request's Idempotency-Key is marked applied with the change.
        bool changed = false;
        auto change = [&](spur::mysql::Connection& tx) -> spur::Task<> {
            changed = co_await change_password_hash(tx, user.id, user.password_hash, hash);
            if (changed) co_await mark_applied(s, tx, req);
        };
        co_await s.db.transaction(change);
        if (!changed) throw spur::HttpError(409, "conflict", "The password was changed meanwhile; sign in again");
        auto updated = co_await find_user_by_id(s.db, user.id);
        if (!updated) throw spur::HttpError(401, "unauthorized", "This account no longer exists");
        answer_with_token(s, req, res, *updated);  // every older token, this request's included, is now void
    };
}

spur::Handler delete_account(Services& s) {
    return [&s](spur::Request& req, spur::Response& res, Auth<Principal> caller, spur::Body<PasswordConfirmIn> in) -> spur::Task<> {
        std::string password = std::move(in->password);
        Confirmed confirmed = co_await confirm_password(s, req, caller->user_id, password);
        co_await delete_user(s.db, confirmed.user.id);
        end_browser_session(s, req, res);
        res.status(204).end();
    };
}

spur::Handler me(Services& s) {
    return [&s](spur::Request&, spur::Response& res, Auth<Principal> caller) -> spur::Task<> {
        auto user = co_await find_user_by_id(s.db, caller->user_id);
        if (!user) throw spur::HttpError(401, "unauthorized", "This account no longer exists");
        res.json(UserReply{true, out(*user)});
    };
}

}  // namespace app::auth
