#pragma once
// spur::middleware::idempotency — a POST or PATCH carrying an Idempotency-Key runs once; a
// retry gets the first answer again (draft-ietf-httpapi-idempotency-key-header, Stripe's rules).

#include <spur/handler.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace spur::middleware {

/// What a store keeps of one answered request.
struct StoredResponse {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;  ///< those of IdempotencyOptions::stored_headers present, in order
    std::string body;
};

/// One key's state as a store reports it when a request arrives.
struct IdempotencyBegin {
    enum class Outcome {
        started,                   ///< the key is this request's now (new, expired, or taken over): run it
        replay,                    ///< answered before with the same fingerprint: `response` holds the answer
        in_flight,                 ///< another request holds the key and its lock has not passed
        mismatch,                  ///< the key was used for a request with another fingerprint
        applied_without_response,  ///< the effect was applied but no answer is kept (lost, or too large)
    };
    Outcome outcome = Outcome::started;
    std::string claim;                       ///< started: the token proving this request holds the key
    std::optional<StoredResponse> response;  ///< replay
};

/// Where keys live. Implementations are thread-safe: every call may run on any I/O thread,
/// concurrently with the others. A key is identified by (scope, key); a store may hash both.
class IdempotencyStore {
public:
    virtual ~IdempotencyStore() = default;

    /// Looks the key up and, when it is free, takes it for this request in the same step (no two
    /// concurrent begin() calls both get `started` for one key). `scope`: the principal (""
    /// = anonymous); `key`: the client's key; `fingerprint`: of the request. A new key is held
    /// for `lock` without an answer (then another request may take it over, unless its effect
    /// was applied) and kept for `ttl` (then it is free again, whatever its state). Throws when
    /// the store fails (the request then fails with it) or refuses (HttpError 503).
    virtual Task<IdempotencyBegin> begin(std::string scope, std::string key, std::string fingerprint,
                                         std::chrono::milliseconds lock, std::chrono::seconds ttl) = 0;
    /// Stores the answer of the request holding `claim`; does nothing when the claim no longer
    /// holds the key (its lock passed and another request took it over). Throws when the store fails.
    virtual Task<> complete(std::string scope, std::string key, std::string claim, StoredResponse response) = 0;
    /// The request holding `claim` answered but its answer is not kept (too large to store):
    /// later requests with the key get `applied_without_response`. Nothing when the claim no
    /// longer holds the key. Throws when the store fails.
    virtual Task<> complete_without_response(std::string scope, std::string key, std::string claim) = 0;
    /// The request failed before its effect was applied: forget the key so that a retry runs
    /// again. Nothing when the claim no longer holds the key, or when its effect was marked
    /// applied (spur::mysql::IdempotencyStore::applied_in): a retry then gets
    /// `applied_without_response`. Throws when the store fails (the key then stays locked
    /// until its lock passes).
    virtual Task<> release(std::string scope, std::string key, std::string claim) = 0;
};

/// Options of MemoryIdempotencyStore.
struct MemoryIdempotencyStoreOptions {
    /// Keys held at once, in flight or answered. Past it (after dropping the expired ones) a
    /// new key is refused with 503 `idempotency_store_full` and Retry-After (seconds until
    /// the oldest key expires): an old key is never dropped early, since its retry would run again.
    std::size_t max_keys = 100'000;
    /// Keys one principal (scope) holds at once. Past it (after dropping the expired ones) that
    /// principal's new keys are refused with 429 `too_many_idempotency_keys` and Retry-After
    /// (seconds until its oldest key expires); the others keep their share: one client's flood
    /// of distinct keys cannot fill max_keys for everyone. Anonymous clients share one scope ("").
    std::size_t max_keys_per_scope = 1'000;
    /// Bytes of stored answers (bodies and headers) at once. An answer that would pass it
    /// (after dropping the expired ones) is not kept: the key answers 409 `idempotency_key_applied`.
    std::size_t max_bytes = 64 * 1024 * 1024;
    /// The clock; replaceable for tests.
    std::function<std::chrono::steady_clock::time_point()> now;
};

/// Keys in this process's memory, for a single instance and tests; spur::mysql::IdempotencyStore
/// shares them between instances. Bounded by max_keys and max_bytes; expired keys are dropped
/// lazily (when their key comes back, or when a bound is reached). Thread-safe (one mutex).
class MemoryIdempotencyStore : public IdempotencyStore {
public:
    /// Throws std::invalid_argument for max_keys or max_keys_per_scope == 0.
    explicit MemoryIdempotencyStore(MemoryIdempotencyStoreOptions options = {});
    ~MemoryIdempotencyStore() override;

    Task<IdempotencyBegin> begin(std::string scope, std::string key, std::string fingerprint,
                                 std::chrono::milliseconds lock, std::chrono::seconds ttl) override;
    Task<> complete(std::string scope, std::string key, std::string claim, StoredResponse response) override;
    Task<> complete_without_response(std::string scope, std::string key, std::string claim) override;
    Task<> release(std::string scope, std::string key, std::string claim) override;

    /// Keys held now, expired ones not yet dropped included.
    std::size_t size() const;
    /// Bytes of stored answers now.
    std::size_t bytes() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Options of idempotency().
struct IdempotencyOptions {
    /// The request header carrying the key.
    std::string header = "Idempotency-Key";
    /// How long a key and its answer are kept (24 h, Stripe's and the draft's example). Must
    /// be longer than `lock`.
    std::chrono::seconds ttl = std::chrono::hours(24);
    /// How long a key stays locked by a request that has not answered. Past it another request
    /// with the key takes it over and runs (the instance that held it is taken for crashed) —
    /// unless the effect was marked applied. Set it above your slowest handler's time: a
    /// handler still running past it may run beside its retry (spur::mysql's applied_in()
    /// then keeps the second write out).
    std::chrono::milliseconds lock = std::chrono::seconds(10);
    /// The longest key accepted (the draft suggests UUIDs: 36).
    std::size_t max_key_length = 255;
    /// The largest answer body kept. A larger answer is sent but not kept: a retry gets 409
    /// `idempotency_key_applied` (read the resource to learn the outcome).
    std::size_t max_stored_body = 1024 * 1024;
    /// Response headers kept and replayed with the answer (case-insensitive). Others (Set-Cookie,
    /// Date, per-request ids) are the replay's own.
    std::vector<std::string> stored_headers = {"Content-Type", "Location", "ETag", "Last-Modified", "Content-Location"};
    /// Whether a POST or PATCH without the header is refused with 400 `idempotency_key_required`
    /// (use it on one route: `app.post("/pay", mw::idempotency(store, {.required = true}), pay)`).
    bool required = false;
    /// The authenticated principal that keys are scoped by: two principals using one key never
    /// see each other's answers. Async, so that it may check a token; throwing HttpError
    /// answers with it. Default: the hex SHA-256 of the Authorization and X-API-Key headers,
    /// "" when both are absent — then every anonymous client shares one scope, and a key is all
    /// that stands between one client's answer and another's: anonymous keys must be
    /// unguessable (a random UUID). With cookie sessions, return the user's id here.
    std::function<Task<std::string>(Request&)> principal;
};

/// POST and PATCH requests carrying the header run once per (principal, key) while the key
/// lives (`ttl`); other methods, and requests without the header (unless `required`), pass
/// through untouched. Register it after compression and etag (outside them), so that what is
/// stored is the handler's own answer.
///
/// The key is 1..max_key_length visible ASCII characters sent bare (`Idempotency-Key: 8e03…`),
/// or an RFC 8941 string (`Idempotency-Key: "8e03…"`, as the draft writes it, where spaces and
/// the escapes \" and \\ are allowed too); `k` and `"k"` name one key. The request's
/// fingerprint is the SHA-256 of its method, path and query, Content-Type and body; the body
/// is read for it (the handler still sees it). On a stream_body() route the body is left to
/// the handler, and the fingerprint takes its Content-Length instead (a reused key with
/// another body of the same length is then not told apart). Stores keep the fingerprint,
/// never the body.
///
/// Answers (through HttpError, so the app's one error renderer renders them):
/// - 400 `idempotency_key_required`: `required`, and no header;
/// - 400 `invalid_idempotency_key`: an empty, too long or malformed key, or the header twice;
/// - 409 `idempotency_key_in_use` (Retry-After: 1): another request with the key is running;
/// - 409 `idempotency_key_applied`: a request with the key applied its effect but its answer
///   is not kept (lost in a crash, or larger than max_stored_body): read the resource;
/// - 422 `idempotency_key_reused`: the key was used for a different request;
/// - 429 `too_many_idempotency_keys` (Retry-After): the principal holds
///   MemoryIdempotencyStoreOptions::max_keys_per_scope keys;
/// - 503 `idempotency_store_full` (Retry-After): the MemoryIdempotencyStore is full;
/// - the first answer again, with `Idempotent-Replayed: true`, for a retry of an answered one.
///
/// What is stored: an answer with status < 500 (its stored_headers and body). Not stored, and
/// the key released so that a retry runs again: a handler that throws (an HttpError too), a
/// status >= 500, a streamed answer (res.stream(), SSE). A store that fails to keep an answer
/// leaves the answer sent and the key locked until `lock` passes (logged). A request whose
/// client leaves (cancelled) still frees its key, or keeps its answer.
///
/// Bounds: the key by max_key_length (before anything is looked up); the body read for the
/// fingerprint by the route's body limit (413 past it, no key taken); a kept answer by
/// max_stored_body; the memory store by max_keys (max_keys_per_scope for one principal) and
/// max_bytes; the MariaDB store's answers by 16 MiB (a MEDIUMBLOB) and, for one principal, by
/// IdempotencyStoreOptions::max_answer_bytes_per_scope.
///
/// Guarantee: a handler runs at most once per key while the key lives, as long as it answers
/// within `lock`. With spur::mysql::IdempotencyStore and a handler that records its effect
/// with applied_in() in the same transaction, a crash between the write and storing its
/// answer gives 409 `idempotency_key_applied` to every retry, never a second run.
///
/// Throws std::invalid_argument for an invalid header name, a ttl not longer than lock, a
/// lock <= 0 or a max_key_length of 0.
Middleware idempotency(IdempotencyStore& store, IdempotencyOptions options = {});

/// The key a request holds while its handler runs, for a handler that records its effect in
/// the same transaction as the key (spur::mysql::IdempotencyStore::applied_in).
struct IdempotencyClaim {
    std::string scope, key, claim;
};

/// The key `req` holds, or nullptr when it carries none (or idempotency() does not run for it,
/// or the request replays an answer).
const IdempotencyClaim* idempotency_claim(const Request& req);

}  // namespace spur::middleware
