// The pool's leases: exhaustion, waiting, recovery after a killed connection, many threads, a
// slow statement off the thread, a pool outliving its io_context.
#include <spur/mysql/pool.hpp>

#include "support.hpp"
#include "support/eventually_async.hpp"

#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>

using namespace spur;
using namespace spur::mysql;
using spur::test::run;
using spur::test::test_db;

namespace {
// Releases `lease` once a caller waits for a connection of `pool`; `waited` says whether one
// did within five seconds. A function, not a lambda: a coroutine lambda's captures would be
// gone before it runs.
Task<> release_once_waited_for(Pool& pool, std::unique_ptr<PooledConnection>& lease, bool& waited) {
    auto one_waiting = [&pool] { return pool.stats().waiting == 1; };
    waited = co_await spur::test::eventually_async(one_waiting);
    lease.reset();
}
}  // namespace

TEST_CASE("an exhausted pool times out with a clear error", "[mysql][pool][concurrency]") {
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

TEST_CASE("a waiting coroutine gets the next released connection", "[mysql][pool][concurrency]") {
    boost::asio::io_context io;
    Pool pool(test_db(1));
    run(io, [&]() -> Task<> {
        auto first = std::make_unique<PooledConnection>(co_await pool.acquire());
        auto id = (*first)->thread_id();
        bool waited = false;
        boost::asio::co_spawn(io, release_once_waited_for(pool, first, waited), boost::asio::detached);
        auto second = co_await pool.acquire();  // released while this waits
        CHECK(waited);
        CHECK(second->thread_id() == id);
    }());
}

TEST_CASE("the pool recovers after the server kills a connection", "[mysql][pool][concurrency]") {
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

TEST_CASE("without validation the killed connection fails once and the next call works", "[mysql][pool][concurrency]") {
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

TEST_CASE("many coroutines on several threads share a small pool with correct results", "[mysql][pool][concurrency]") {
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

TEST_CASE("a slow query does not block the thread it runs on", "[mysql][nonblocking][concurrency]") {
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

TEST_CASE("a pool may outlive the io_context its connections last ran on", "[mysql][pool][concurrency]") {
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
