#pragma once
// The row lease that lets one Migrator at a time apply migrations, across instances and across
// the nodes of a Galera cluster (private to migrator.cpp).

#include <spur/mysql/connection.hpp>
#include <spur/mysql/migrator.hpp>

#include <spur/mysql/error.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace spur::mysql::detail {

/// Runs `step()` (returning Task<>) again when Galera aborted it: a lost certification, or a
/// brute-force abort by another node's DDL (1213, 1047) — several migrators starting at once on
/// several nodes do run DDL at once. Every step of a migrator is safe to repeat (a migration
/// too: written to run twice). After `attempts`, or for any other error, throws an Error that
/// names `what` (when not empty) before the server's message, keeping its number.
template <class Step>
Task<> repeat_on_conflict(std::string what, Step step, int attempts = 5) {  // by value: the coroutine outlives the call
    for (int attempt = 1;; ++attempt) {
        std::optional<Error> failed;
        try {
            Task<> running = step();  // named: GCC 12
            co_await std::move(running);
            co_return;
        } catch (const Error& e) {
            failed.emplace(e);
        }
        if (!failed->transaction_conflict() || attempt >= attempts) {
            if (what.empty()) throw *failed;
            throw Error(failed->number(), failed->sqlstate(), what + ": " + failed->what());
        }
    }
}

/// A hold on row 1 of `<table>_lock`, taken on `connection`.
///
/// GET_LOCK would not do on Galera: its locks belong to one node, so two migrators on two nodes
/// would both get one. A row does: its INSERT is replicated and certified, so of two migrators
/// only one gets it (the other sees a duplicate key, or loses certification with 1213) whichever
/// node each is on. The row carries an expiry, so a migrator killed mid-way holds the others up
/// until then at most; renew() pushes it back, and finds out if it was lost meanwhile.
class MigrationLease {
public:
    /// Creates the lock table if needed, then takes the row: deleting it first if it expired,
    /// polling every `options.lease_poll` while another migrator holds it. Throws Error when it
    /// is still held after `options.lease_wait`.
    static Task<MigrationLease> take(Connection& connection, const MigratorOptions& options);

    /// Extends the hold by `lease` from now. Throws Error when the row is no longer ours (it
    /// expired and another migrator took it).
    Task<> renew(Connection& connection);
    /// Deletes the row if it is still ours. Throws Error (the row then expires by itself).
    Task<> release(Connection& connection);

private:
    MigrationLease(std::string table, std::string owner, std::chrono::milliseconds lease)
        : table_(std::move(table)), owner_(std::move(owner)), lease_(lease) {}
    std::string table_;  // <table>_lock
    std::string owner_;  // random, per hold
    std::chrono::milliseconds lease_;
};

}  // namespace spur::mysql::detail
