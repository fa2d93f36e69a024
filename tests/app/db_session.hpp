#pragma once
// A database session of the test's own, outside spur-app's pool, driven synchronously from the
// test thread: it holds a lock (a row with SELECT … FOR UPDATE, a table with TableHold) so that a
// request of the app stays in flight for as long as the test wants, and it observes the server
// (its processlist) so that the test waits for an event instead of sleeping.

#include "support/database_url.hpp"

#include <spur/mysql/config.hpp>
#include <spur/mysql/connection.hpp>
#include <spur/mysql/error.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

namespace app::test {

class DbSession {
public:
    DbSession() : work_(io_.get_executor()), thread_([this] { io_.run(); }) {
        auto config = spur::mysql::parse_url(spur::test::database_url());
        // A statement of this session may wait as long as the test holds something (an ALTER
        // behind the hold): past the client's default 30 s it would be cut, and the hold with it.
        config.query_timeout = std::chrono::minutes(5);
        auto connect = [this, config]() -> spur::Task<> { connection_ = co_await spur::mysql::Connection::connect(config); };
        run_task(connect);
    }
    ~DbSession() {
        auto close = [this]() -> spur::Task<> {
            if (connection_ && !connection_->broken()) co_await connection_->close();
            connection_.reset();
        };
        try {
            run_task(close);
        } catch (...) {  // a connection the test broke closes without ceremony
        }
        work_.reset();
        thread_.join();
    }
    DbSession(const DbSession&) = delete;
    DbSession& operator=(const DbSession&) = delete;

    /// Runs SQL text (no parameters) and returns the result; throws what the server says.
    spur::mysql::Result query(const std::string& sql) {
        spur::mysql::Result out;
        auto work = [this, &sql, &out]() -> spur::Task<> { out = co_await connection_->query(sql); };
        run_task(work);
        return out;
    }
    /// The first column of the first row of `sql`, as an integer (0 when there is no row).
    std::int64_t number(const std::string& sql) {
        auto r = query(sql);
        if (r.empty() || r.front()[0].is_null()) return 0;
        const auto& v = r.front()[0];
        return v.kind() == spur::mysql::Value::Kind::text ? std::stoll(std::string(v.as_string())) : v.as_int64();
    }

    /// How many other sessions wait for a table lock in a statement whose text contains `needle`.
    std::int64_t waiting_for_table(const std::string& needle) {
        return number("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND "
                      "STATE LIKE 'Waiting for table%' AND INFO LIKE '%" + needle + "%'");
    }
    /// How many other sessions run a statement whose text starts with `prefix` — while the
    /// test holds the row it needs, that statement cannot finish: it waits for the lock.
    /// (PROCESSLIST shows the test user's own sessions without the PROCESS privilege, which
    /// INNODB_TRX would need.)
    std::int64_t running(const std::string& prefix) {
        return number("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND "
                      "INFO LIKE '" + prefix + "%'");
    }

private:
    template <class Work>
    void run_task(Work& work) {
        std::promise<void> done;
        auto result = done.get_future();
        boost::asio::co_spawn(io_, work(), [&done](std::exception_ptr e) {
            if (e) done.set_exception(e);
            else done.set_value();
        });
        result.get();
    }

    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::unique_ptr<spur::mysql::Connection> connection_;
    std::thread thread_;
};

/// Every new statement on `table` waits until release(), without LOCK TABLES (the test user
/// may not): one session keeps a transaction open that has read the table, a second asks for
/// the table's exclusive metadata lock with a no-op ALTER and waits behind it, and every later
/// statement on the table queues behind that ALTER ("Waiting for table metadata lock"). Reads
/// of other tables are not held (writes to a table `table` references are).
class TableHold {
public:
    explicit TableHold(const std::string& table) : table_(table) {
        reader_.query("BEGIN");
        reader_.query("SELECT 1 FROM " + table + " LIMIT 1");
        alter_ = std::jthread([this] {
            try {
                alterer_.query("ALTER TABLE " + table_ + " COMMENT = ''");
            } catch (...) {
                alter_error_ = std::current_exception();
            }
        });
        wait_for_alter();
    }
    ~TableHold() {
        try {
            release();
        } catch (const std::exception& e) {  // the sessions close anyway; say why
            std::fprintf(stderr, "TableHold: %s\n", e.what());
        }
    }
    /// Lets the ALTER and then every held statement run; waits for the ALTER to finish.
    void release() {
        if (released_) return;
        released_ = true;
        reader_.query("COMMIT");
        alter_.join();
        if (alter_error_) std::rethrow_exception(alter_error_);
    }

private:
    void wait_for_alter();

    std::string table_;
    DbSession reader_, alterer_, watch_;
    std::jthread alter_;
    std::exception_ptr alter_error_;
    bool released_ = false;
};

/// Asks `condition` until it holds (each ask is a round trip to the database or a look at
/// finished requests: an event the test waits for, not a guess at how long it takes). Throws
/// after a minute, so that a test that waits for the wrong thing fails instead of hanging.
inline void wait_until(const std::function<bool()>& condition) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    while (!condition()) {
        if (std::chrono::steady_clock::now() > give_up) throw std::runtime_error("the awaited event did not happen");
        std::this_thread::yield();
    }
}

inline void TableHold::wait_for_alter() {
    // Waiting, not merely started: until the ALTER asks for its lock, new statements pass.
    wait_until([this] { return watch_.waiting_for_table("ALTER TABLE " + table_) == 1; });
}

}  // namespace app::test
