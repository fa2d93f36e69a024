#include "migrate.hpp"

#include <spur/mysql/error.hpp>

#include <spur/random.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <set>

namespace app {

namespace {
constexpr std::string_view create_table =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, "
    "applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

// One migrator at a time across every instance, and across the nodes of a Galera cluster.
// GET_LOCK would not do there: its locks belong to one node, so two instances on two nodes would
// both migrate. A row does: its insert is replicated and certified, so of two instances only one
// gets it (the other sees a duplicate key, or loses certification with 1213) whichever node each
// is on. The row expires, so a migrator killed mid-way holds the others up for `lease` at most.
constexpr std::string_view create_lock_table =
    "CREATE TABLE IF NOT EXISTS schema_migrations_lock (id TINYINT NOT NULL PRIMARY KEY, owner CHAR(32) NOT NULL, "
    "expires_at DATETIME(3) NOT NULL) ENGINE=InnoDB";
constexpr int lease_minutes = 5;

spur::Task<std::string> take_lock(spur::mysql::Connection& c) {
    co_await c.query(create_lock_table);
    const std::string owner = spur::random_token(16).substr(0, 32);
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(lease_minutes + 1);
    boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor);
    for (;;) {
        co_await c.execute("DELETE FROM schema_migrations_lock WHERE id = 1 AND expires_at < UTC_TIMESTAMP(3)");
        bool taken = true;
        try {
            co_await c.execute("INSERT INTO schema_migrations_lock (id, owner, expires_at) VALUES "
                               "(1, ?, UTC_TIMESTAMP(3) + INTERVAL " + std::to_string(lease_minutes) + " MINUTE)",
                               owner);
        } catch (const spur::mysql::Error& e) {
            if (!e.duplicate_key() && !e.transaction_conflict()) throw;
            taken = false;
        }
        if (taken) co_return owner;
        if (std::chrono::steady_clock::now() > give_up)
            throw spur::mysql::Error(0, "HY000", "another instance holds the migration lock (schema_migrations_lock)");
        pause.expires_after(std::chrono::milliseconds(200));
        co_await pause.async_wait(boost::asio::use_awaitable);
    }
}

spur::Task<std::set<int>> applied(spur::mysql::Connection& c) {
    co_await c.query(create_table);
    std::set<int> out;
    for (const auto& row : co_await c.execute("SELECT version FROM schema_migrations")) out.insert(row.get<int>(0));
    co_return out;
}
}  // namespace

spur::Task<std::vector<int>> apply_migrations(spur::mysql::Pool& db) {
    auto c = co_await db.acquire();
    // One instance migrates at a time; the others wait here, then find nothing left to do.
    const std::string owner = co_await take_lock(*c);
    std::vector<int> done;
    std::exception_ptr failure;
    try {
        auto have = co_await applied(*c);
        for (const auto& m : migrations()) {
            if (have.count(m.version)) continue;
            co_await c->query(m.sql);
            co_await c->execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", m.version, m.name);
            done.push_back(m.version);
        }
    } catch (...) {
        failure = std::current_exception();
    }
    co_await c->execute("DELETE FROM schema_migrations_lock WHERE id = 1 AND owner = ?", owner);
    if (failure) std::rethrow_exception(failure);
    co_return done;
}

spur::Task<std::vector<int>> pending_migrations(spur::mysql::Pool& db) {
    auto c = co_await db.acquire();
    auto have = co_await applied(*c);
    std::vector<int> out;
    for (const auto& m : migrations())
        if (!have.count(m.version)) out.push_back(m.version);
    co_return out;
}

std::vector<int> migrations_now(const spur::mysql::Config& db, bool apply) {
    boost::asio::io_context io;
    std::vector<int> result;
    std::exception_ptr failure;
    {
        // Migration files hold several statements; the app's own pool never may.
        auto config = db;
        config.multi_statements = true;
        config.max_statement_time = {};  // a schema change may take as long as it takes
        spur::mysql::Pool pool(config);
        boost::asio::co_spawn(io, apply ? apply_migrations(pool) : pending_migrations(pool),
                              [&](std::exception_ptr e, std::vector<int> r) {
                                  failure = e;
                                  result = std::move(r);
                              });
        io.run();
    }  // the pool's sockets go before their io_context
    if (failure) std::rethrow_exception(failure);
    return result;
}

}  // namespace app
