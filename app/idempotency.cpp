#include "idempotency.hpp"

#include "auth/guard.hpp"

#include <spur/middleware/idempotency.hpp>

#include <string>

namespace app {

namespace {
// Keys are scoped by the account, not by the credential: a retry may come with the same
// account's other credential (the session cookie after a token, a refreshed token) and still
// finds its answer, and two accounts never share one. Authenticating here costs the guard's
// check once more, only for requests that carry a key.
spur::Task<std::string> account_of(spur::Request& req) {
    spur::Task<auth::Principal> pending =
        req.app().extensions().get<auth::Authenticator>().authenticate(req, auth::Credentials::token_or_key);  // named: GCC 12
    const auth::Principal who = co_await std::move(pending);
    co_return "account:" + std::to_string(who.user_id);
}

spur::Task<std::string> nobody(spur::Request&) { co_return std::string(); }
}  // namespace

spur::Middleware idempotent_writes(Services& s, KeyScope scope, KeepAnswer keep) {
    spur::middleware::IdempotencyOptions o;
    o.principal = scope == KeyScope::account ? account_of : nobody;
    // A text's answer carries its content (up to MAX_TEXT_BYTES, escaped): keep answers up to
    // 8 MiB, the largest body a write takes; a larger one is answered 409 idempotency_key_applied.
    // An answer with a secret is kept by no one: API key secrets are stored only hashed, and a
    // token only in the client.
    o.max_stored_body = keep == KeepAnswer::whole ? 8 * 1024 * 1024 : 0;
    o.stored_headers.push_back("Cache-Control");
    return spur::middleware::idempotency(s.idempotency, std::move(o));
}

spur::RouteConfig& accepts_idempotency_key(spur::RouteConfig& route) {
    return route
        .parameter("header", "Idempotency-Key",
                   "A unique key per intended write (a UUID). A retry with the same key and body gets the first answer "
                   "again (Idempotent-Replayed: true) instead of writing twice; keys are kept 24 hours.")
        .responds_error(409, 422);
}

spur::Task<> mark_applied(Services& s, spur::mysql::Connection& tx, const spur::Request& req) {
    co_await s.idempotency.applied_in(tx, req);
}

}  // namespace app
