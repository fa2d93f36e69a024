#include <spur/mysql/pool.hpp>

#include "support.hpp"

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
using spur::test::run;
using spur::test::test_db;

namespace {
// A fresh table per test case, so cases are independent in any order.
Task<> reset_table(Pool& pool, std::string_view ddl) {
    auto name = std::string(ddl.substr(13, ddl.find(' ', 13) - 13));  // "CREATE TABLE <name> ("
    co_await pool.query("DROP TABLE IF EXISTS " + name);
    co_await pool.query(ddl);
}

// A request that runs 20 short statements. A function, not a lambda: a coroutine lambda's
// captures live in the lambda object, which would be gone before the coroutine runs.
Task<> short_statements(Pool& pool) {
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

TEST_CASE("every supported type round-trips - NULL and utf8mb4 included", "[mysql]") {
    boost::asio::io_context io;
    Pool pool(test_db());
    run(io, [&]() -> Task<> {
        co_await reset_table(pool,
                             "CREATE TABLE types_t (id BIGINT AUTO_INCREMENT PRIMARY KEY, i BIGINT, u BIGINT UNSIGNED, "
                             "d DOUBLE, s VARCHAR(100), t MEDIUMTEXT, b BLOB, dt DATETIME(6), dc DECIMAL(10,2), f TINYINT(1)) "
                             "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
        const std::string emoji = "héllo 🌍 — 世界";
        const std::string bytes("\x00\xff\x01\xfe'\"\\", 7);
        const DateTime when{2024, 2, 29, 23, 59, 58, 123456};
        auto ins = co_await pool.execute(
            "INSERT INTO types_t (i, u, d, s, t, b, dt, dc, f) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            std::int64_t{-9007199254740993}, std::uint64_t{18446744073709551615ull}, 3.25, emoji,
            std::string(70000, 'x'), Blob(bytes), when, "12345678.90", true);
        CHECK(ins.affected_rows == 1);
        CHECK(ins.last_insert_id >= 1);
        auto nul = co_await pool.execute("INSERT INTO types_t (i, s, dt) VALUES (?, ?, ?)", nullptr,
                                         std::optional<std::string>{}, std::nullopt);
        CHECK(nul.last_insert_id == ins.last_insert_id + 1);

        auto r = co_await pool.execute("SELECT i, u, d, s, t, b, dt, dc, f FROM types_t WHERE id = ?", ins.last_insert_id);
        REQUIRE(r.size() == 1);
        const Row& row = r.front();
        CHECK(row.get<std::int64_t>("i") == -9007199254740993);
        CHECK(row.get<std::uint64_t>("u") == 18446744073709551615ull);
        CHECK(row.get<double>("d") == 3.25);
        CHECK(row.get<std::string>("s") == emoji);
        CHECK(row.get<std::string>("t").size() == 70000);
        CHECK(row["b"].kind() == Value::Kind::blob);
        CHECK(row.get<std::string>("b") == bytes);
        CHECK(row.get<DateTime>("dt") == when);
        CHECK(row.get<std::string>("dc") == "12345678.90");
        CHECK(row.get<double>("dc") == Approx(12345678.90));
        CHECK(row.get<bool>("f"));
        CHECK(row.get<std::int64_t>(0) == -9007199254740993);  // by index too

        auto n = co_await pool.execute("SELECT i, s, dt FROM types_t WHERE id = ?", nul.last_insert_id);
        CHECK(n.front()["i"].is_null());
        CHECK(n.front().get<std::optional<std::string>>("s") == std::nullopt);
        CHECK_THROWS_AS(n.front().get<std::int64_t>("i"), Error);  // NULL is not an integer
        CHECK_THROWS_AS(n.front()["missing"], Error);
    }());
}

TEST_CASE("SQL injection strings are stored verbatim as data", "[mysql]") {
    boost::asio::io_context io;
    Pool pool(test_db());
    run(io, [&]() -> Task<> {
        co_await reset_table(pool, "CREATE TABLE inj_t (id INT AUTO_INCREMENT PRIMARY KEY, v TEXT) DEFAULT CHARSET=utf8mb4");
        const std::vector<std::string> nasty = {"'; DROP TABLE inj_t; --", "\" OR 1=1 --", "\\'; SELECT SLEEP(5); #",
                                                "Robert'); DELETE FROM inj_t;--", std::string("nul\0byte", 8),
                                                "?", "%_%"};
        for (const auto& s : nasty) co_await pool.execute("INSERT INTO inj_t (v) VALUES (?)", s);
        auto all = co_await pool.execute("SELECT v FROM inj_t ORDER BY id");
        REQUIRE(all.size() == nasty.size());
        for (std::size_t i = 0; i < nasty.size(); ++i) CHECK(all.rows[i].get<std::string>(0) == nasty[i]);
        auto like = co_await pool.execute("SELECT COUNT(*) FROM inj_t WHERE v = ?", "\" OR 1=1 --");
        CHECK(like.front().get<std::int64_t>(0) == 1);
    }());
}

TEST_CASE("server errors carry the error number and SQLSTATE", "[mysql]") {
    boost::asio::io_context io;
    Pool pool(test_db());
    run(io, [&]() -> Task<> {
        co_await reset_table(pool, "CREATE TABLE dup_t (email VARCHAR(100) PRIMARY KEY) DEFAULT CHARSET=utf8mb4");
        co_await pool.execute("INSERT INTO dup_t VALUES (?)", "a@example.com");
        try {
            co_await pool.execute("INSERT INTO dup_t VALUES (?)", "a@example.com");
            FAIL("duplicate accepted");
        } catch (const Error& e) {
            CHECK(e.number() == 1062);
            CHECK(e.sqlstate() == "23000");
            CHECK(e.duplicate_key());
            CHECK_FALSE(e.connection_lost());
        }
        try {
            co_await pool.execute("SELEC broken");
            FAIL("syntax error accepted");
        } catch (const Error& e) {
            CHECK(e.number() == 1064);
            CHECK(e.sqlstate() == "42000");
        }
        CHECK_THROWS_AS(co_await pool.execute("SELECT ?", 1, 2), Error);  // wrong parameter count
        // the pool is still healthy after all that
        {
            const auto got = (co_await pool.execute("SELECT 1")).front().get<int>(0);
            CHECK(got == 1);
        }
    }());
}

TEST_CASE("transactions commit on success and roll back on exception", "[mysql][transaction]") {
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

    Task<> wait_for(const bool& flag) {
        boost::asio::steady_timer t(co_await boost::asio::this_coro::executor);
        for (int i = 0; i < 500 && !flag; ++i) {
            t.expires_after(std::chrono::milliseconds(2));
            co_await t.async_wait(boost::asio::use_awaitable);
        }
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

TEST_CASE("a transaction that loses a deadlock runs again and both commit, within transaction_attempts", "[mysql][transaction]") {
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

TEST_CASE("a connection returned mid-transaction is dropped, not reused", "[mysql][transaction]") {
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

TEST_CASE("an exhausted pool times out with a clear error", "[mysql][pool]") {
    boost::asio::io_context io;
    auto config = test_db(1);
    config.acquire_timeout = std::chrono::milliseconds(200);
    Pool pool(config);
    run(io, [&]() -> Task<> {
        auto held = co_await pool.acquire();
        auto start = std::chrono::steady_clock::now();
        try {
            co_await pool.acquire();
            FAIL("second acquire succeeded on a pool of one");
        } catch (const Error& e) {
            CHECK(e.pool_timeout());
            CHECK(std::string(e.what()).find("timed out") != std::string::npos);
        }
        CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(180));
        CHECK(pool.stats().in_use == 1);
    }());
}

TEST_CASE("a waiting coroutine gets the next released connection", "[mysql][pool]") {
    boost::asio::io_context io;
    Pool pool(test_db(1));
    run(io, [&]() -> Task<> {
        auto first = std::make_unique<PooledConnection>(co_await pool.acquire());
        auto id = (*first)->thread_id();
        boost::asio::steady_timer t(io, std::chrono::milliseconds(50));
        t.async_wait([&](auto) { first.reset(); });  // release while the acquire below waits
        auto second = co_await pool.acquire();
        CHECK(second->thread_id() == id);
    }());
}

TEST_CASE("the pool recovers after the server kills a connection", "[mysql][pool]") {
    boost::asio::io_context io;
    auto config = test_db(2);
    config.validate_after = std::chrono::milliseconds(0);  // ping before every reuse
    Pool pool(config);
    Pool killer(test_db(1));
    run(io, [&]() -> Task<> {
        std::uint64_t victim = 0;
        {
            auto lease = co_await pool.acquire();
            victim = lease->thread_id();
        }
        co_await killer.execute("KILL CONNECTION " + std::to_string(victim));
        auto r = co_await pool.execute("SELECT CONNECTION_ID()");
        CHECK(r.front().get<std::uint64_t>(0) != victim);
    }());
}

TEST_CASE("without validation the killed connection fails once and the next call works", "[mysql][pool]") {
    boost::asio::io_context io;
    auto config = test_db(1);
    config.validate_after = std::chrono::hours(1);
    Pool pool(config);
    Pool killer(test_db(1));
    run(io, [&]() -> Task<> {
        std::uint64_t victim = (co_await pool.execute("SELECT CONNECTION_ID()")).front().get<std::uint64_t>(0);
        co_await killer.execute("KILL CONNECTION " + std::to_string(victim));
        bool lost = false;
        try {
            co_await pool.execute("SELECT 1");
        } catch (const Error& e) {
            lost = e.connection_lost();
        }
        CHECK(lost);
        auto r = co_await pool.execute("SELECT CONNECTION_ID()");
        CHECK(r.front().get<std::uint64_t>(0) != victim);
        CHECK(pool.stats().open == 1);
    }());
}

TEST_CASE("many coroutines on several threads share a small pool with correct results", "[mysql][pool]") {
    boost::asio::io_context io;
    Pool pool(test_db(4));
    std::atomic<int> correct{0};
    std::atomic<int> done{0};
    constexpr int tasks = 200;
    for (int i = 0; i < tasks; ++i) {
        boost::asio::co_spawn(
            io,
            [&pool, &correct, &done, i]() -> Task<> {
                auto r = co_await pool.execute("SELECT ? + 1, CONNECTION_ID()", i);
                if (r.front().get<int>(0) == i + 1) ++correct;
                ++done;
            },
            boost::asio::detached);
    }
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t) threads.emplace_back([&] {
        while (done < tasks) io.run_for(std::chrono::milliseconds(50));
    });
    for (auto& t : threads) t.join();
    CHECK(correct == tasks);
    auto s = pool.stats();
    CHECK(s.open <= 4);
    CHECK(s.in_use == 0);
}

TEST_CASE("a slow query does not block the thread it runs on", "[mysql][nonblocking]") {
    boost::asio::io_context io;  // one thread only
    Pool pool(test_db(2));
    int ticks = 0;
    run(io, [&]() -> Task<> {
        bool slow_done = false;
        boost::asio::co_spawn(
            io,
            [&]() -> Task<> {
                co_await pool.execute("SELECT SLEEP(0.5)");
                slow_done = true;
            },
            boost::asio::detached);
        boost::asio::steady_timer t(io);
        while (!slow_done) {
            t.expires_after(std::chrono::milliseconds(20));
            co_await t.async_wait(boost::asio::use_awaitable);
            ++ticks;
        }
    }());
    CHECK(ticks >= 15);  // the timer kept firing while the query ran
}

TEST_CASE("query() runs several statements only with multi_statements - and statements beyond the cache still work", "[mysql]") {
    boost::asio::io_context io;
    {
        Pool strict(test_db(1));  // the default
        run(io, [&]() -> Task<> {
            try {
                co_await strict.query("SELECT 1; DROP TABLE IF EXISTS never_dropped_t");
                FAIL("a second statement ran");
            } catch (const Error& e) {
                CHECK(e.number() == 1064);  // the server sees one statement with trailing junk
            }
        }());
    }
    io.restart();
    auto config = test_db(1);
    config.statement_cache = 2;
    config.multi_statements = true;
    Pool pool(config);
    run(io, [&]() -> Task<> {
        auto r = co_await pool.query("DROP TABLE IF EXISTS multi_t; CREATE TABLE multi_t (id INT); "
                                     "INSERT INTO multi_t VALUES (1), (2); SELECT COUNT(*) AS n FROM multi_t");
        CHECK(r.front().get<int>("n") == 2);
        for (int round = 0; round < 3; ++round)
            for (int k = 0; k < 5; ++k) {
                auto q = co_await pool.execute("SELECT ? * " + std::to_string(k), round);
                CHECK(q.front().get<int>(0) == round * k);
            }
    }());
}

TEST_CASE("max_statement_time stops a long statement on the server with error 1969", "[mysql]") {
    boost::asio::io_context io;
    auto config = test_db(1);
    config.max_statement_time = std::chrono::milliseconds(300);
    Pool pool(config);
    run(io, [&]() -> Task<> {
        const auto start = std::chrono::steady_clock::now();
        try {
            co_await pool.execute("SELECT SLEEP(5)");
            FAIL("the statement was not stopped");
        } catch (const Error& e) {
            CHECK(e.number() == 1969);
        }
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
        // The connection stays usable, and the limit is the session's, checked on the server.
        auto r = co_await pool.execute("SELECT @@max_statement_time");
        CHECK(r.front().get<double>(0) == Approx(0.3));
    }());
}

TEST_CASE("a pool may outlive the io_context its connections last ran on", "[mysql][pool]") {
    // The shape `Pool db(...); App app; app.listen();` produces: the server's io_context goes first.
    auto pool = std::make_unique<Pool>(test_db(2));
    std::uint64_t first_id = 0;
    {
        boost::asio::io_context io;
        run(io, [&]() -> Task<> { first_id = (co_await pool->execute("SELECT CONNECTION_ID()")).front().get<std::uint64_t>(0); }());
    }
    {
        boost::asio::io_context other;  // the idle connection is reused on another loop
        run(other, [&]() -> Task<> {
            auto r = co_await pool->execute("SELECT CONNECTION_ID()");
            CHECK(r.front().get<std::uint64_t>(0) == first_id);
        }());
    }
    CHECK(pool->stats().idle == 1);
    pool.reset();  // closes the idle connection with no io_context left
}

namespace {
// Whether a statement starting with `prefix` is still running on the server, polled for up to
// `limit` (this poll's own text does not start with the prefix).
Task<bool> still_running(Pool& pool, const std::string& prefix, std::chrono::milliseconds limit) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        auto r = co_await pool.execute(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE CONCAT(?, '%')", prefix);
        if (r.front().get<std::uint64_t>(0) == 0) co_return false;
        if (std::chrono::steady_clock::now() > deadline) co_return true;
        timer.expires_after(std::chrono::milliseconds(100));
        co_await timer.async_wait(boost::asio::use_awaitable);
    }
}
}  // namespace

TEST_CASE("a statement the client gives up on is stopped on the server too (KILL QUERY)", "[mysql][kill]") {
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
          "[mysql][pool]") {
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
    boost::asio::steady_timer soon(io, std::chrono::milliseconds(50));
    soon.async_wait([&leave](boost::system::error_code) { leave.emit(boost::asio::cancellation_type::terminal); });
    const auto started = std::chrono::steady_clock::now();
    io.restart();
    io.run();
    CHECK(outcome == "cancelled");
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::milliseconds(2000));
    CHECK(pool.stats().waiting == 0);
    held.reset();
    CHECK(pool.stats().idle == 1);
}

TEST_CASE("callers cancelled while they wait for or use a connection leave the pool whole", "[mysql][pool]") {
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
            boost::asio::co_spawn(io, short_statements(pool),
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
