// Callers that give up: KILL QUERY for an abandoned statement, cancelled waiters, bursts of
// cancellations leaving the pool whole.
#include <spur/mysql/pool.hpp>

#include "support.hpp"
#include "support/eventually_async.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <optional>

using namespace spur;
using namespace spur::mysql;
using spur::test::reset_table;
using spur::test::run;
using spur::test::test_db;

namespace {
// A request that runs 20 short statements. A function, not a lambda: a coroutine lambda's
// captures live in the lambda object, which would be gone before the coroutine runs.
Task<> sleeping_statements(Pool& pool) {
    for (int k = 0; k < 20; ++k) co_await pool.execute("SELECT SLEEP(0.005)");
}

// Waits for a connection of a full pool and records how the wait ended.
Task<> wait_for_connection(Pool& pool, std::string& outcome) {
    try {
        co_await pool.execute("SELECT 1");
        outcome = "answered";
    } catch (const Error& e) {
        outcome = e.pool_timeout() ? "pool timeout" : e.what();
    } catch (const boost::system::system_error& e) {
        outcome = e.code() == boost::asio::error::operation_aborted ? "cancelled" : e.what();
    }
}
}  // namespace

namespace {
// Cancels the waiting caller (as a client that leaves would) once `pool` has it waiting for a
// connection; `waited` says whether it was within five seconds.
Task<> leave_once_waiting(Pool& pool, boost::asio::cancellation_signal& leave, bool& waited) {
    auto one_waiting = [&pool] { return pool.stats().waiting == 1; };
    waited = co_await spur::test::eventually_async(one_waiting);
    leave.emit(boost::asio::cancellation_type::terminal);
}

// Whether a statement starting with `prefix` is still running on the server after `limit`
// (it is asked until the statement is gone; this question's own text does not start with the prefix).
Task<bool> still_running(Pool& pool, const std::string& prefix, std::chrono::milliseconds limit) {
    auto gone = [&]() -> Task<bool> {
        auto r = co_await pool.execute(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE CONCAT(?, '%')", prefix);
        co_return r.front().get<std::uint64_t>(0) == 0;
    };
    const bool ended = co_await spur::test::eventually_async(gone, limit);
    co_return !ended;
}
}  // namespace

TEST_CASE("a statement the client gives up on is stopped on the server too (KILL QUERY)", "[mysql][kill][concurrency]") {
    using namespace boost::asio::experimental::awaitable_operators;
    boost::asio::io_context io;
    auto config = test_db(4);
    config.query_timeout = std::chrono::milliseconds(1000);  // the client-side deadline
    Pool pool(config);
    run(io, [&]() -> Task<> {
        // 1. query_timeout passes while the statement waits for a row lock: the caller gets an
        //    error at once, and the server stops waiting too. (A lock wait goes on after the
        //    client has gone: nothing but KILL ends it before innodb_lock_wait_timeout.)
        co_await reset_table(pool, "CREATE TABLE kill_t (id INT PRIMARY KEY)");
        co_await pool.execute("INSERT INTO kill_t VALUES (1)");
        auto holder = co_await pool.acquire();
        co_await holder->begin();
        co_await holder->execute("SELECT id FROM kill_t WHERE id = 1 FOR UPDATE");
        bool lost = false;
        try {
            co_await pool.execute("SELECT id AS abandoned_by_timeout FROM kill_t WHERE id = 1 FOR UPDATE");
        } catch (const Error& e) {
            lost = e.connection_lost();
        }
        CHECK(lost);
        {
            const auto got = co_await still_running(pool, "SELECT id AS abandoned_by_timeout", std::chrono::seconds(3));
            CHECK_FALSE(got);
        }
        co_await holder->rollback();

        // 2. The awaiting coroutine is cancelled (here by a timer winning a race, as a request
        //    deadline would): the statement is stopped as well.
        boost::asio::steady_timer deadline(co_await boost::asio::this_coro::executor, std::chrono::milliseconds(300));
        auto winner = co_await (pool.execute("SELECT SLEEP(30) AS abandoned_by_cancel") ||
                                deadline.async_wait(boost::asio::use_awaitable));
        CHECK(winner.index() == 1);
        {
            const auto got = co_await still_running(pool, "SELECT SLEEP(30) AS abandoned_by_cancel", std::chrono::seconds(3));
            CHECK_FALSE(got);
        }

        // The pool goes on with fresh connections.
        auto r = co_await pool.execute("SELECT 1");
        CHECK(r.front().get<int>(0) == 1);
    }());
}

TEST_CASE("a caller cancelled while it waits for a connection gets operation_aborted and no pool timeout",
          "[mysql][pool][concurrency]") {
    // An app maps a pool timeout to 503 and logs it as the database's fault; a client that
    // left is neither.
    boost::asio::io_context io;
    auto config = test_db(1);
    config.acquire_timeout = std::chrono::milliseconds(3000);
    Pool pool(config);
    std::optional<PooledConnection> held;
    run(io, [&]() -> Task<> {
        auto lease = co_await pool.acquire();
        held.emplace(std::move(lease));
    }());
    std::string outcome;
    boost::asio::cancellation_signal leave;
    boost::asio::co_spawn(io, wait_for_connection(pool, outcome),
                          boost::asio::bind_cancellation_slot(leave.slot(), boost::asio::detached));
    bool waited = false;
    boost::asio::co_spawn(io, leave_once_waiting(pool, leave, waited), boost::asio::detached);
    const auto started = std::chrono::steady_clock::now();
    io.restart();
    io.run();
    CHECK(waited);
    CHECK(outcome == "cancelled");
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::milliseconds(2000));
    CHECK(pool.stats().waiting == 0);
    held.reset();
    CHECK(pool.stats().idle == 1);
}

TEST_CASE("callers cancelled while they wait for or use a connection leave the pool whole", "[mysql][pool][concurrency]") {
    // What a load generator's end does to a server: every client leaves at once, and each
    // request's coroutine is cancelled wherever it is — waiting for a connection, opening one,
    // or mid-statement. The pool must come back to its full size.
    boost::asio::io_context io;
    auto config = test_db(2);
    config.acquire_timeout = std::chrono::milliseconds(2000);
    Pool pool(config);
    for (int round = 0; round < 5; ++round) {
        std::vector<std::unique_ptr<boost::asio::cancellation_signal>> signals;
        std::atomic<int> finished{0};
        for (int i = 0; i < 12; ++i) {
            signals.push_back(std::make_unique<boost::asio::cancellation_signal>());
            boost::asio::co_spawn(io, sleeping_statements(pool),
                                  boost::asio::bind_cancellation_slot(signals.back()->slot(),
                                                                      [&finished](std::exception_ptr) { ++finished; }));
        }
        boost::asio::steady_timer leave(io, std::chrono::milliseconds(15 + 7 * round));
        leave.async_wait([&signals](boost::system::error_code) {
            for (auto& s : signals) s->emit(boost::asio::cancellation_type::terminal);
        });
        io.restart();
        io.run();
        CHECK(finished == 12);
        auto st = pool.stats();
        CHECK(st.open == st.idle);  // nothing leased once every caller is gone
    }
    io.restart();
    const auto started = std::chrono::steady_clock::now();
    auto answer = run(io, [&]() -> Task<int> {
        auto r = co_await pool.execute("SELECT 7");
        co_return r.front().get<int>(0);
    }());
    CHECK(answer == 7);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::milliseconds(1500));  // not a 2 s acquire timeout
    CHECK(pool.stats().open <= 2);
}
