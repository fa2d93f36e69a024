#pragma once
// spur::mysql::IdempotencyStore — Idempotency-Key state in a MariaDB/MySQL table, shared by
// every app instance, and safe on a Galera cluster.

#include <spur/middleware/idempotency.hpp>
#include <spur/mysql/migrator.hpp>
#include <spur/mysql/pool.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace spur::mysql {

/// Options of IdempotencyStore.
struct IdempotencyStoreOptions {
    /// The table ([A-Za-z0-9_], at most 64 characters); create_table() or migration() makes it.
    std::string table = "spur_idempotency";
    /// Bytes of large kept answers (bodies over 4 KiB, sealed) that one principal (scope) may
    /// hold at once. Past it a large answer is sent but not kept: the key is kept as applied,
    /// and a retry gets 409 `idempotency_key_applied`. Without it a principal that creates and
    /// deletes large resources would grow the table without bound for a day (each answer kept
    /// for the ttl, whatever the resource's own quota says). Answers up to 4 KiB are always kept.
    std::size_t max_answer_bytes_per_scope = 16 * 1024 * 1024;
};

/// Keeps the keys of middleware::idempotency() in a table, so that every instance sees every
/// key: a retry that reaches another instance is replayed (or refused) there too.
///
/// A row per (scope, key), under SHA-256 hashes of both (the raw key and principal are never
/// stored): the request's fingerprint, the claim token of the request holding it, its state
/// (running, applied, answered), when its lock passes and when it expires, and the answer
/// (status, kept headers, body up to 16 MiB; a larger one is kept as applied without answer).
/// The headers and body are sealed (AES-256-GCM) under a key derived from the raw scope and
/// key, so the table — or a backup of it — never holds an answer in clear: one that carries a
/// secret shown once (a new API key, a token) opens only for a request presenting its key. As
/// strong as the keys are unguessable (a random UUID). A kept answer that does not open
/// (edited by hand) is treated as lost: 409 `idempotency_key_applied`, never a second run.
/// Times come from the database's clock (UTC_TIMESTAMP), so instances' clocks never disagree.
///
/// Taking a key is an INSERT: of two requests only one gets the row, on one server or on two
/// Galera nodes (the loser sees a duplicate key, or Galera's certification conflict — both
/// answer 409 `idempotency_key_in_use`). Taking over a key whose lock passed, or that expired,
/// is an UPDATE that compares and sets the claim token, so only one request wins that too. No
/// SELECT … FOR UPDATE and no GET_LOCK: neither holds across Galera nodes. Expired rows are
/// never used; purge_expired() deletes them (schedule it with spur::every).
class IdempotencyStore : public middleware::IdempotencyStore {
public:
    /// Throws std::invalid_argument for a table name outside [A-Za-z0-9_]. The pool must
    /// outlive the store.
    explicit IdempotencyStore(Pool& pool, IdempotencyStoreOptions options = {});

    /// The table's DDL as a migration (CREATE TABLE IF NOT EXISTS, so it may also run on a
    /// database where create_table() made it), for an application's own list of migrations.
    /// Throws std::invalid_argument for a bad table name.
    static Migration migration(int version, IdempotencyStoreOptions options = {});
    /// CREATE TABLE IF NOT EXISTS. Throws Error.
    Task<> create_table();
    /// Deletes expired keys in batches of `batch` rows (short locks) and returns how many.
    /// Throws Error.
    Task<std::uint64_t> purge_expired(std::uint32_t batch = 1000);

    /// Inside the handler's own transaction (`tx`, from Pool::transaction): marks the key that
    /// `req` holds as applied, so that the key and the handler's write commit together, or
    /// neither does. After that commit the key is never run again — a crash before its answer
    /// is stored gives retries 409 `idempotency_key_applied`, not a second run. Throws
    /// HttpError(409, "idempotency_key_in_use") when `req` no longer holds the key (its lock
    /// passed and a retry took it over): the transaction then rolls back, so the write is not
    /// applied twice. Throws Error from the statement (a Galera conflict is retried by
    /// Pool::transaction). Does nothing for a request without a key. The key must be this
    /// store's (the idempotency() middleware of `req` uses it).
    Task<> applied_in(Connection& tx, const Request& req);

    Task<middleware::IdempotencyBegin> begin(std::string scope, std::string key, std::string fingerprint,
                                             std::chrono::milliseconds lock, std::chrono::seconds ttl) override;
    Task<> complete(std::string scope, std::string key, std::string claim, middleware::StoredResponse response) override;
    Task<> complete_without_response(std::string scope, std::string key, std::string claim) override;
    Task<> release(std::string scope, std::string key, std::string claim) override;

private:
    Pool& pool_;
    std::string table_;
    std::size_t max_answer_bytes_per_scope_;
};

}  // namespace spur::mysql
