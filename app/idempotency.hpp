#pragma once
// Safe retries of spur-app's writes: the Idempotency-Key middleware on the routes that create
// something or change a password, its keys in MariaDB (Services::idempotency).

#include "services.hpp"

#include <spur/handler.hpp>
#include <spur/router.hpp>

namespace app {

/// Who a key belongs to.
enum class KeyScope {
    account,    ///< the signed-in caller (token, session cookie or API key): a caller that is not
                ///< signed in is answered 401 before any key is taken
    anonymous,  ///< no account yet (register, a reset link): keys must be unguessable (UUIDs)
};

/// middleware::idempotency() over the shared store: a POST carrying `Idempotency-Key` runs
/// once per (account, key) for 24 hours; a retry gets the first answer again
/// (`Idempotent-Replayed: true`), the key with another body 422, a retry while the first runs
/// 409 (the key of a killed instance frees after 10 s). Handlers that write in a transaction
/// mark the key there (mark_applied), so a crash between the write and storing its answer
/// gives 409 `idempotency_key_applied`, never a second write.
/// What is kept of an answer.
enum class KeepAnswer {
    whole,       ///< replayed to a retry
    never,       ///< it carries a secret (an API key's, a token): a retry of a lost answer gets 409
                 ///< idempotency_key_applied — the write happened; its secret is not stored anywhere
};

spur::Middleware idempotent_writes(Services& s, KeyScope scope, KeepAnswer keep = KeepAnswer::whole);

/// Documents the header and its 409/422 answers on `route` (a route being configured:
/// `accepts_idempotency_key(data.post("/", ...).summary("…"))`).
spur::RouteConfig& accepts_idempotency_key(spur::RouteConfig& route);

/// Inside the write's transaction: the request's key (if it carries one) is marked applied with
/// it. Throws HttpError 409 when the request no longer holds its key (the transaction then rolls
/// back), spur::mysql::Error from the statement.
spur::Task<> mark_applied(Services& s, spur::mysql::Connection& tx, const spur::Request& req);

}  // namespace app
