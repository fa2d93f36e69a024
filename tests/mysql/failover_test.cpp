// Several hosts in one Config: failing over at connect, a lost connection replaced on another
// host, idempotent statements run once more, others never. The test server is reached through
// its unix socket under several names: with `socket` set, Connector/C sends "localhost" with any
// port to the socket, so {"localhost", 3306} and {"localhost", 3307} are two hosts to the pool
// and one real server. Galera itself is tested by reliability/cluster.sh.
#include <spur/mysql/pool.hpp>

#include "mysql/support.hpp"
#include "support/eventually_async.hpp"

#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

using namespace std::chrono_literals;
using spur::mysql::Host;
using spur::mysql::HostOrder;

namespace {
const Host a{"localhost", 3306};
const Host b{"localhost", 3307};
const Host refused{"127.0.0.1", 1};  // nothing listens on port 1

spur::mysql::Config cluster(std::vector<Host> hosts, std::size_t pool_max = 4) {
    auto c = spur::test::test_db(pool_max);
    c.hosts = std::move(hosts);
    c.pool_min = 0;
    return c;
}

spur::Task<> sleep_for(std::chrono::milliseconds d) {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, d);
    co_await t.async_wait(boost::asio::use_awaitable);
}

// Kills server connection `id` from a connection of its own, once `id` is running a
// SELECT SLEEP: the statement is then in flight when its connection goes.
spur::Task<> kill_once_running(std::uint64_t id) {
    auto killer = co_await spur::mysql::Connection::connect(spur::test::test_db());
    auto running = [&]() -> spur::Task<bool> {
        auto r = co_await killer->execute(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ? AND INFO LIKE 'SELECT SLEEP%'", id);
        co_return r.front().get<std::uint64_t>(0) == 1;
    };
    // Not running within five seconds: no kill, and the test fails on a statement that survived.
    if (co_await spur::test::eventually_async(running)) co_await killer->query("KILL CONNECTION " + std::to_string(id));
    co_await killer->close();
}

// The server id of the connection `pool` hands out next (it goes back idle first).
spur::Task<std::uint64_t> next_connection_id(spur::mysql::Pool& pool) {
    auto lease = co_await pool.acquire();
    co_return lease->thread_id();
}
}  // namespace

TEST_CASE("a new connection goes to the first host that answers", "[mysql][failover]") {
    boost::asio::io_context io;
    auto direct = spur::test::run(io, spur::mysql::Connection::connect(cluster({refused, a})));
    CHECK(direct->server() == a);

    spur::mysql::Pool pool(cluster({refused, a, b}));
    auto on = spur::test::run(io, [&]() -> spur::Task<Host> {
        auto lease = co_await pool.acquire();
        co_await lease->execute("SELECT 1");
        co_return lease->server();
    }());
    CHECK(on == a);  // first_available: the second host, never the third while it answers
}

TEST_CASE("when no host answers, the error names every host", "[mysql][failover]") {
    boost::asio::io_context io;
    spur::mysql::Pool pool(cluster({refused, Host{"127.0.0.1", 2}}));
    try {
        spur::test::run(io, [&]() -> spur::Task<> { co_await pool.execute("SELECT 1"); }());
        FAIL("connected to nothing");
    } catch (const spur::mysql::Error& e) {
        CHECK(e.connection_lost());
        CHECK_THAT(e.what(), Catch::Contains("no database host answered") && Catch::Contains("127.0.0.1:1:") &&
                                 Catch::Contains("127.0.0.1:2:"));
    }
    CHECK(pool.stats().open == 0);
}

TEST_CASE("round_robin starts each new connection at the next host", "[mysql][failover]") {
    boost::asio::io_context io;
    auto config = cluster({a, b}, 4);
    config.host_order = HostOrder::round_robin;
    spur::mysql::Pool pool(config);
    auto servers = spur::test::run(io, [&]() -> spur::Task<std::vector<Host>> {
        std::vector<spur::mysql::PooledConnection> held;
        std::vector<Host> out;
        for (int i = 0; i < 4; ++i) {
            held.push_back(co_await pool.acquire());
            out.push_back(held.back()->server());
        }
        co_return out;
    }());
    CHECK(servers == std::vector<Host>{a, b, a, b});
}

TEST_CASE("a lost connection is reported, and replaced on another host", "[mysql][failover]") {
    boost::asio::io_context io;
    spur::mysql::Pool pool(cluster({a, b}, 3));
    spur::test::run(io, [&]() -> spur::Task<> {
        // Two idle connections on host a.
        {
            auto first = co_await pool.acquire();
            auto second = co_await pool.acquire();
            CHECK(first->server() == a);
            CHECK(second->server() == a);
        }
        CHECK(pool.stats().idle == 2);
        const auto victim = co_await next_connection_id(pool);
        boost::asio::co_spawn(co_await boost::asio::this_coro::executor, kill_once_running(victim),
                              boost::asio::detached);
        const auto started = std::chrono::steady_clock::now();
        try {
            // Not marked idempotent: the failure reaches the caller at once, the statement is not rerun.
            co_await pool.execute("SELECT SLEEP(3)");
            FAIL("the statement outlived its connection");
        } catch (const spur::mysql::Error& e) {
            CHECK(e.connection_lost());
            CHECK_THAT(e.what(), Catch::Contains("database server localhost:3306"));
        }
        CHECK(std::chrono::steady_clock::now() - started < 2s);
        // Host a's other idle connection went with it; the next connection opens on host b.
        CHECK(pool.stats().open == 0);
        auto lease = co_await pool.acquire();
        CHECK(lease->server() == b);
        CHECK(lease->thread_id() != victim);
    }());
}

TEST_CASE("an idempotent statement whose connection is lost runs once more on a new one", "[mysql][failover]") {
    boost::asio::io_context io;
    spur::mysql::Pool pool(cluster({a, b}, 2));
    spur::test::run(io, [&]() -> spur::Task<> {
        const auto victim = co_await next_connection_id(pool);
        boost::asio::co_spawn(co_await boost::asio::this_coro::executor, kill_once_running(victim),
                              boost::asio::detached);
        auto r = co_await pool.execute(spur::mysql::idempotent, "SELECT SLEEP(1), CONNECTION_ID(), ? AS echo", 7);
        REQUIRE(r.size() == 1);
        CHECK(r.front().get<std::uint64_t>(1) != victim);
        CHECK(r.front().get<int>("echo") == 7);

        const auto second_victim = co_await next_connection_id(pool);
        boost::asio::co_spawn(co_await boost::asio::this_coro::executor, kill_once_running(second_victim),
                              boost::asio::detached);
        auto q = co_await pool.query(spur::mysql::idempotent, "SELECT SLEEP(1), CONNECTION_ID()");
        CHECK(q.front().get<std::uint64_t>(1) != second_victim);
    }());
}

TEST_CASE("an idempotent statement is run twice at most, and never for an SQL error", "[mysql][failover]") {
    boost::asio::io_context io;
    spur::mysql::Pool pool(cluster({a}, 2));
    spur::test::run(io, [&]() -> spur::Task<> {
        try {
            co_await pool.execute(spur::mysql::idempotent, "SELECT no_such_column FROM DUAL");
            FAIL("bad SQL ran");
        } catch (const spur::mysql::Error& e) {
            CHECK(e.number() == 1054);
        }
        // Both runs lose their connection: the second loss reaches the caller. Each run is
        // killed once it is running; the rerun runs on another connection than the one killed.
        auto killer_loop = [&]() -> spur::Task<> {
            std::uint64_t killed = 0;
            for (int i = 0; i < 2; ++i) {
                std::uint64_t victim = 0;
                auto running = [&]() -> spur::Task<bool> {
                    auto r = co_await pool.execute(
                        "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(2.5)%' AND ID <> ?", killed);
                    if (!r.empty()) victim = r.front().get<std::uint64_t>(0);
                    co_return victim != 0;
                };
                if (!co_await spur::test::eventually_async(running)) co_return;  // the test then fails: no loss
                auto killer = co_await spur::mysql::Connection::connect(spur::test::test_db());
                co_await killer->query("KILL CONNECTION " + std::to_string(victim));
                killed = victim;
            }
        };
        boost::asio::co_spawn(co_await boost::asio::this_coro::executor, killer_loop(), boost::asio::detached);
        try {
            co_await pool.execute(spur::mysql::idempotent, "SELECT SLEEP(2.5)");
            FAIL("survived two kills");
        } catch (const spur::mysql::Error& e) {
            CHECK(e.connection_lost());
        }
    }());
}

TEST_CASE("a connection past max_lifetime is closed when it is handed back", "[mysql][failover]") {
    boost::asio::io_context io;
    auto config = cluster({refused, a}, 2);
    config.host_cooldown = 100ms;
    config.max_lifetime = 300ms;
    spur::mysql::Pool pool(config);
    // A co_await inside CHECK(...) may run more than once (Catch's macro): results go to names first.
    spur::test::run(io, [&]() -> spur::Task<> {
        const auto first = co_await next_connection_id(pool);
        const auto young = co_await next_connection_id(pool);  // reused
        co_await sleep_for(400ms);
        const auto old = co_await next_connection_id(pool);  // handed out, then closed on return
        const auto open_after = pool.stats().open;
        const auto fresh = co_await next_connection_id(pool);
        CHECK(young == first);
        CHECK(old == first);
        CHECK(open_after == 0);
        CHECK(fresh != first);
    }());
}
