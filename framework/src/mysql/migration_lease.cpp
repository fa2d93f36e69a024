#include "mysql/migration_lease.hpp"

#include <spur/mysql/error.hpp>
#include <spur/random.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdint>

namespace spur::mysql::detail {

namespace {
std::int64_t lease_microseconds(std::chrono::milliseconds lease) {
    return std::chrono::duration_cast<std::chrono::microseconds>(lease).count();
}
}  // namespace

Task<MigrationLease> MigrationLease::take(Connection& c, const MigratorOptions& options) {
    const std::string table = options.table + "_lock";
    // The same shape as spur-app's schema_migrations_lock before the Migrator, so that an older
    // and a newer program migrating one database at once still exclude each other.
    const std::string create = "CREATE TABLE IF NOT EXISTS " + table +
                               " (id TINYINT NOT NULL PRIMARY KEY, owner CHAR(32) NOT NULL, expires_at DATETIME(3) NOT NULL) "
                               "ENGINE=InnoDB";
    Task<> creating = repeat_on_conflict("creating the migration lease table", [&]() -> Task<> { co_await c.query(create); });
    co_await std::move(creating);
    MigrationLease lease(table, random_token(16).substr(0, 32), options.lease);
    const auto give_up = std::chrono::steady_clock::now() + options.lease_wait;
    boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor);
    for (;;) {
        bool taken = true;
        try {
            co_await c.execute("DELETE FROM " + table + " WHERE id = 1 AND expires_at < UTC_TIMESTAMP(3)");
            co_await c.execute("INSERT INTO " + table +
                                   " (id, owner, expires_at) VALUES (1, ?, UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND)",
                               lease.owner_, lease_microseconds(options.lease));
        } catch (const Error& e) {
            // Another migrator holds it or just took it: a duplicate key, or (Galera) a lost
            // certification of either statement.
            if (!e.duplicate_key() && !e.transaction_conflict()) throw;
            taken = false;
        }
        if (taken) co_return lease;
        if (std::chrono::steady_clock::now() > give_up)
            throw Error(0, "HY000", "another migrator holds the migration lease (" + table + ")");
        // Another process holds it: nothing here could signal its release, so look again.
        pause.expires_after(options.lease_poll);
        co_await pause.async_wait(boost::asio::use_awaitable);
    }
}

Task<> MigrationLease::renew(Connection& c) {
    Result r;
    Task<> renewing = repeat_on_conflict("renewing the migration lease", [&]() -> Task<> {
        r = co_await c.execute("UPDATE " + table_ + " SET expires_at = UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND WHERE id = 1 AND owner = ?",
                               lease_microseconds(lease_), owner_);
    });
    co_await std::move(renewing);
    // CLIENT_FOUND_ROWS: a matched row counts even when expires_at came out the same.
    if (r.affected_rows != 1)
        throw Error(0, "HY000", "the migration lease (" + table_ + ") expired and another migrator took it");
}

Task<> MigrationLease::release(Connection& c) {
    Task<> releasing = repeat_on_conflict("releasing the migration lease", [&]() -> Task<> {
        co_await c.execute("DELETE FROM " + table_ + " WHERE id = 1 AND owner = ?", owner_);
    });
    co_await std::move(releasing);
}

}  // namespace spur::mysql::detail
