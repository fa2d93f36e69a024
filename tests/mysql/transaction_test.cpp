// Transactions: commit, rollback, a lost deadlock run again, a connection returned mid-transaction.
#include <spur/mysql/pool.hpp>

#include "support.hpp"
#include "support/eventually_async.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

using namespace spur;
using namespace spur::mysql;
using spur::test::reset_table;
using spur::test::run;
using spur::test::test_db;

TEST_CASE("transactions commit on success and roll back on exception", "[mysql][transaction][concurrency]") {
    boost::asio::io_context io;
    Pool pool(test_db(2));
    run(io, [&]() -> Task<> {
        co_await reset_table(pool, "CREATE TABLE tx_t (id INT PRIMARY KEY, v TEXT) ENGINE=InnoDB");
        auto inserted = co_await pool.transaction([&](Connection& tx) -> Task<std::uint64_t> {
            co_await tx.execute("INSERT INTO tx_t VALUES (?, ?)", 1, "one");
            auto r = co_await tx.execute("INSERT INTO tx_t VALUES (?, ?)", 2, "two");
            co_return r.affected_rows;
        });
        CHECK(inserted == 1);
        bool threw = false;
        try {
            co_await pool.transaction([&](Connection& tx) -> Task<> {
                co_await tx.execute("INSERT INTO tx_t VALUES (?, ?)", 3, "three");
                throw std::runtime_error("business rule failed");
            });
        } catch (const std::runtime_error& e) {
            threw = std::string(e.what()) == "business rule failed";
        }
        CHECK(threw);
        auto count = co_await pool.execute("SELECT COUNT(*) FROM tx_t");
        CHECK(count.front().get<int>(0) == 2);  // 3 was rolled back
        auto lease = co_await pool.acquire();
        CHECK_FALSE(lease->in_transaction());   // connections come back clean
    }());
}

namespace {
// Two transactions that lock rows a and b in opposite order: InnoDB kills one with 1213.
// Each run of a body is counted; the second lock waits until the other body holds its first.
struct Deadlock {
    Pool& pool;
    int runs = 0;
    bool a_locked = false, b_locked = false;

    // Until the other body holds its first lock (five seconds at most: if it never does, the
    // test fails on the deadlock that did not happen).
    Task<> wait_for(const bool& flag) {
        auto raised = [&flag] { return flag; };
        co_await spur::test::eventually_async(raised);
    }
    Task<> body(Connection& tx, int first, int second, bool& mine, const bool& theirs) {
        ++runs;
        co_await tx.execute("SELECT v FROM dl_t WHERE id = ? FOR UPDATE", first);
        mine = true;
        co_await wait_for(theirs);
        co_await tx.execute("SELECT v FROM dl_t WHERE id = ? FOR UPDATE", second);
        co_await tx.execute("UPDATE dl_t SET v = v + 1 WHERE id IN (?, ?)", first, second);
    }
    Task<> one() {
        auto work = [this](Connection& tx) { return body(tx, 1, 2, a_locked, b_locked); };
        co_await pool.transaction(work);
    }
    Task<> other() {
        auto work = [this](Connection& tx) { return body(tx, 2, 1, b_locked, a_locked); };
        co_await pool.transaction(work);
    }
};
}  // namespace

TEST_CASE("a transaction that loses a deadlock runs again and both commit, within transaction_attempts", "[mysql][transaction][concurrency]") {
    boost::asio::io_context io;
    auto config = test_db(4);
    Pool pool(config);
    run(io, [&]() -> Task<> {
        co_await reset_table(pool, "CREATE TABLE dl_t (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB");
        co_await pool.query("INSERT INTO dl_t VALUES (1, 0), (2, 0)");
    }());
    Deadlock d{pool};
    std::exception_ptr first_failure, second_failure;
    boost::asio::co_spawn(io, d.one(), [&](std::exception_ptr e) { first_failure = e; });
    boost::asio::co_spawn(io, d.other(), [&](std::exception_ptr e) { second_failure = e; });
    io.restart();
    io.run();
    CHECK_FALSE(first_failure);
    CHECK_FALSE(second_failure);
    CHECK(d.runs == 3);  // the victim ran twice
    auto rows = run(io, [&]() -> Task<std::vector<int>> {
        auto r = co_await pool.execute("SELECT v FROM dl_t ORDER BY id");
        co_return std::vector<int>{r.rows[0].get<int>(0), r.rows[1].get<int>(0)};
    }());
    CHECK(rows == std::vector<int>{2, 2});  // both transactions' updates, each once

    // With one attempt the conflict reaches the caller as the error it is.
    config.transaction_attempts = 1;
    Pool strict(config);
    Deadlock s{strict};
    int conflicts = 0;
    auto count = [&](std::exception_ptr e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const Error& err) {
            if (err.transaction_conflict() && err.number() == 1213) ++conflicts;
        }
    };
    boost::asio::co_spawn(io, s.one(), count);
    boost::asio::co_spawn(io, s.other(), count);
    io.restart();
    io.run();
    CHECK(conflicts == 1);
    CHECK(s.runs == 2);
}

TEST_CASE("a connection returned mid-transaction is dropped, not reused", "[mysql][transaction][concurrency]") {
    boost::asio::io_context io;
    Pool pool(test_db(1));
    run(io, [&]() -> Task<> {
        co_await reset_table(pool, "CREATE TABLE leak_t (id INT PRIMARY KEY) ENGINE=InnoDB");
        std::uint64_t first_id = 0;
        {
            auto lease = co_await pool.acquire();
            first_id = lease->thread_id();
            co_await lease->begin();
            co_await lease->execute("INSERT INTO leak_t VALUES (?)", 1);
        }  // returned without commit
        auto lease = co_await pool.acquire();
        CHECK(lease->thread_id() != first_id);
        CHECK_FALSE(lease->in_transaction());
        auto count = co_await lease->execute("SELECT COUNT(*) FROM leak_t");
        CHECK(count.front().get<int>(0) == 0);  // the uncommitted insert vanished with its connection
    }());
}

TEST_CASE("a cancelled caller's transaction rethrows its work's own failure, and its write is rolled back", "[mysql][transaction]") {
    // A request whose client left is cancelled: no co_await of it runs any more, the rollback's
    // included. What reaches the caller must still be the work's failure, not the rollback's.
    namespace net = boost::asio;
    boost::asio::io_context io;
    Pool pool(test_db(2));
    run(io, reset_table(pool, "CREATE TABLE tx_cancel (id INT PRIMARY KEY) ENGINE=InnoDB"));
    net::cancellation_signal leave;
    std::string failure;
    auto caller = [&]() -> Task<> {
        auto work = [&](Connection& tx) -> Task<> {
            co_await tx.execute("INSERT INTO tx_cancel VALUES (1)");
            leave.emit(net::cancellation_type::terminal);  // the client leaves
            throw std::runtime_error("the work's own failure");
        };
        try {
            co_await pool.transaction(work);
        } catch (const std::exception& e) {
            failure = e.what();
        }
        // Cleared, as a server clears a request's: co_spawn's own ending would throw otherwise.
        co_await net::this_coro::reset_cancellation_state();
    };
    io.restart();
    net::co_spawn(io, caller(), net::bind_cancellation_slot(leave.slot(), net::detached));
    io.run();
    CHECK(failure == "the work's own failure");
    auto rows = run(io, [&]() -> Task<std::int64_t> {
        auto r = co_await pool.execute("SELECT COUNT(*) FROM tx_cancel");
        co_return r.front().get<std::int64_t>(0);
    }());
    CHECK(rows == 0);
}
