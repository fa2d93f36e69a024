#include "migrate.hpp"

#include <spur/mysql/error.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <set>

namespace app {

namespace {
constexpr std::string_view create_table =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, "
    "applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

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
    auto lock = co_await c->execute("SELECT GET_LOCK('spur_app_migrations', 60)");
    if (lock.empty() || lock.front()[0].is_null() || lock.front().get<int>(0) != 1)
        throw spur::mysql::Error(0, "HY000", "could not take the migration lock");
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
    co_await c->execute("SELECT RELEASE_LOCK('spur_app_migrations')");
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
