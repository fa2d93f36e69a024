// spur::mysql against a real three-node Galera cluster, started by scripts/cluster.sh:
// reliability/cluster.sh runs this binary with SPUR_CLUSTER_DIR (the cluster's state: the app's
// URL in database-url, each node's socket for root) and SPUR_CLUSTER_SH (to stop and start nodes).
// Not a CTest test: a cluster takes longer to start than CI can spare (docs/reliability.md).
#include <spur/mysql/pool.hpp>

#include <spur/mysql/idempotency_store.hpp>
#include <spur/mysql/jobs.hpp>

#include "mysql/jobs_instance.hpp"
#include "mysql/support.hpp"
#include "support/test_server.hpp"
#include "support/eventually_async.hpp"
#include "support/flag.hpp"

#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>

using namespace std::chrono_literals;
using spur::mysql::Config;
using spur::mysql::Host;
using spur::mysql::Pool;

namespace {
std::string env(const char* name) {
    const char* v = std::getenv(name);
    if (!v) throw std::runtime_error(std::string(name) + " is not set: run reliability/cluster.sh");
    return v;
}

// The app's account on every node, in node order (mysql://spur:…@127.0.0.1:P1,…:P3/spur).
Config app_config() {
    std::ifstream in(env("SPUR_CLUSTER_DIR") + "/database-url");
    std::string url;
    std::getline(in, url);
    auto c = spur::mysql::parse_url(url);
    REQUIRE(c.hosts.size() == 3);
    c.pool_min = 0;
    c.pool_max = 4;
    return c;
}

Config only(Config c, std::vector<Host> hosts) {
    c.hosts = std::move(hosts);
    return c;
}

// Returns once the pool's node has applied what the cluster committed before the call: a node
// returns from DDL once it has run it, and the other nodes apply it in their own time, so a table
// just created through one node may not yet exist on another. A causal read (wsrep_sync_wait = 1)
// waits for that node's applier to catch up; the CREATE applied, the table stays.
spur::Task<> sees_table(Pool& pool, std::string table) {
    auto lease = co_await pool.acquire();
    co_await lease->query("SET SESSION wsrep_sync_wait = 1");
    co_await lease->query("SELECT COUNT(*) FROM " + table);
    co_await lease->query("SET SESSION wsrep_sync_wait = 0");
}

// Node n as root, through its socket (for SET GLOBAL).
Config root_of(int n) {
    Config c;
    c.user = "root";
    c.socket = env("SPUR_CLUSTER_DIR") + "/db" + std::to_string(n) + "/mysqld.sock";
    c.database = "spur";
    return c;
}

void cluster_sh(const std::string& args) {
    const std::string command = env("SPUR_CLUSTER_SH") + " " + args + " >/dev/null";
    REQUIRE(std::system(command.c_str()) == 0);
}

// Raises `flag` once node n runs `sql` (after closing its look-out connection, so that only the
// statement's own connection is on the node when the test stops it).
spur::Task<> raise_once_running(int n, std::string sql, std::shared_ptr<spur::test::Flag> flag) {
    auto watch = co_await spur::mysql::Connection::connect(root_of(n));
    auto running = [&]() -> spur::Task<bool> {
        auto r = co_await watch->execute("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = ?", sql);
        co_return r.front().get<std::uint64_t>(0) > 0;
    };
    const bool seen = co_await spur::test::eventually_async(running, 10s);
    co_await watch->close();
    if (seen) flag->raise();
}

spur::Task<int> port_of(Pool& pool) {
    // From a table: a node refusing queries still answers those that read none.
    auto r = co_await pool.execute(spur::mysql::idempotent, "SELECT @@port FROM schema_migrations LIMIT 1");
    co_return r.front().get<int>(0);
}
}  // namespace

TEST_CASE("round_robin spreads new connections over the three nodes, first_available keeps to the first",
          "[galera]") {
    boost::asio::io_context io;
    auto config = app_config();
    config.host_order = spur::mysql::HostOrder::round_robin;
    Pool spread(config);
    Pool first(app_config());
    auto [ports, first_ports] = spur::test::run(io, [&]() -> spur::Task<std::pair<std::set<int>, std::set<int>>> {
        std::vector<spur::mysql::PooledConnection> held;
        std::set<int> a, b;
        for (int i = 0; i < 3; ++i) {
            held.push_back(co_await spread.acquire());
            a.insert((co_await held.back()->execute("SELECT @@port")).front().get<int>(0));
            held.push_back(co_await first.acquire());
            b.insert((co_await held.back()->execute("SELECT @@port")).front().get<int>(0));
        }
        co_return std::pair{a, b};
    }());
    CHECK(ports == std::set<int>{config.hosts[0].port, config.hosts[1].port, config.hosts[2].port});
    CHECK(first_ports == std::set<int>{config.hosts[0].port});
}

TEST_CASE("a certification conflict between two nodes runs the transaction again", "[galera]") {
    boost::asio::io_context io;
    const auto config = app_config();
    Pool node1(only(config, {config.hosts[0]}));
    Pool node2(only(config, {config.hosts[1]}));
    spur::test::run(io, [&]() -> spur::Task<> {
        co_await node1.query("CREATE TABLE IF NOT EXISTS galera_counter (id INT PRIMARY KEY, n INT NOT NULL)");
        co_await node1.query("REPLACE INTO galera_counter VALUES (1, 0)");
        int runs = 0;
        // The first run's update conflicts with one committed meanwhile on node 2: Galera aborts
        // it (1213) at commit, and Pool::transaction runs the body again.
        auto body = [&](spur::mysql::Connection& c) -> spur::Task<> {
            ++runs;
            co_await c.execute("UPDATE galera_counter SET n = n + 1 WHERE id = 1");
            if (runs == 1) {
                // wsrep_sync_wait = 2: node 2 first applies what is committed (node 1's REPLACE
                // above). Without it, on a slow host, node 2's UPDATE could run before the REPLACE
                // reached it and lose certification against it (1213) — a conflict of the
                // statement, not of the transaction under test, which then ran again on n = 0.
                auto other = co_await node2.acquire();
                co_await other->query("SET SESSION wsrep_sync_wait = 2");
                co_await other->execute("UPDATE galera_counter SET n = n + 10 WHERE id = 1");
            }
        };
        co_await node1.transaction(body);
        CHECK(runs == 2);
        for (Pool* p : {&node1, &node2}) {
            auto lease = co_await p->acquire();
            co_await lease->query("SET SESSION wsrep_sync_wait = 1");
            {
                const auto got = (co_await lease->execute("SELECT n FROM galera_counter WHERE id = 1")).front().get<int>(0);
                CHECK(got == 11);
            }
        }

        // With one attempt the conflict reaches the caller.
        auto once_config = only(config, {config.hosts[0]});
        once_config.transaction_attempts = 1;
        Pool once(once_config);
        runs = 0;
        try {
            co_await once.transaction(body);
            FAIL("no conflict");
        } catch (const spur::mysql::Error& e) {
            CHECK(e.transaction_conflict());
            CHECK(e.number() == 1213);
        }
        CHECK(runs == 1);
        co_await node1.query("DROP TABLE galera_counter");
    }());
}

TEST_CASE("a node that refuses queries (1047) is skipped, idempotent reads move, writes report it", "[galera]") {
    boost::asio::io_context io;
    const auto config = app_config();
    Pool pool(only(config, {config.hosts[0], config.hosts[1]}));
    Pool writes(only(config, {config.hosts[0], config.hosts[1]}));
    spur::test::run(io, [&]() -> spur::Task<> {
        // A connection to node 1 waits idle in each pool.
        {
            const auto got = co_await port_of(pool);
            CHECK(got == config.hosts[0].port);
        }
        co_await writes.execute("SELECT 1");
        auto root = co_await spur::mysql::Connection::connect(root_of(1));
        co_await root->query("SET GLOBAL wsrep_reject_queries = ALL");
        std::exception_ptr failure;
        try {
            {
                const auto got = co_await port_of(pool);
                CHECK(got == config.hosts[1].port);
            }  // ran again, on node 2
            try {
                co_await writes.execute("CREATE TEMPORARY TABLE never (id INT)");
                FAIL("node 1 took a statement");
            } catch (const spur::mysql::Error& e) {
                CHECK(e.number() == 1047);
                CHECK_THAT(e.what(), Catch::Contains(std::to_string(config.hosts[0].port)));
            }
            // A new pool's first connection skips node 1.
            Pool fresh(only(config, {config.hosts[0], config.hosts[1]}));
            auto lease = co_await fresh.acquire();
            CHECK(lease->server() == config.hosts[1]);
        } catch (...) {
            failure = std::current_exception();
        }
        auto reset = co_await spur::mysql::Connection::connect(root_of(1));
        co_await reset->query("SET GLOBAL wsrep_reject_queries = NONE");
        if (failure) std::rethrow_exception(failure);
    }());
}

TEST_CASE("a node that shuts down mid-query fails the statement naming it, and the pool moves on", "[galera]") {
    boost::asio::io_context io;
    const auto config = app_config();
    Pool pool(only(config, {config.hosts[2], config.hosts[1]}));  // node 3 first
    std::thread stopper;
    spur::test::run(io, [&]() -> spur::Task<> {
        {
            const auto got = co_await port_of(pool);
            CHECK(got == config.hosts[2].port);
        }
        // Node 3 stops while the statement runs there (or after 15 s: the check below then fails).
        auto running = std::make_shared<spur::test::Flag>();
        boost::asio::co_spawn(co_await boost::asio::this_coro::executor, raise_once_running(3, "SELECT SLEEP(20)", running),
                              boost::asio::detached);
        stopper = std::thread([running] {
            running->wait(15s);
            cluster_sh("stop-db 3");
        });
        std::string lost;
        try {
            co_await pool.execute("SELECT SLEEP(20)");
        } catch (const spur::mysql::Error& e) {
            if (e.connection_lost()) lost = e.what();
        }
        CHECK_THAT(lost, Catch::Contains("127.0.0.1:" + std::to_string(config.hosts[2].port)));
        {
            const auto got = co_await port_of(pool);
            CHECK(got == config.hosts[1].port);
        }
    }());
    stopper.join();
    cluster_sh("start-db 3");  // rejoins by IST
    spur::test::run(io, [&]() -> spur::Task<> {
        Pool back(only(config, {config.hosts[2]}));
        {
            const auto got = co_await port_of(back);
            CHECK(got == config.hosts[2].port);
        }
    }());
}

// spur::mysql::Jobs with an instance writing through each of two nodes: the compare-and-set
// claim holds across nodes (a lost race there is a certification failure, 1213).
TEST_CASE("jobs claimed through two Galera nodes run exactly once each", "[galera][jobs]") {
    const auto config = app_config();
    spur::mysql::JobsOptions o;
    o.table = "galera_jobs";
    o.poll = std::chrono::milliseconds(20);
    o.lease = std::chrono::milliseconds(2000);
    boost::asio::io_context io;
    {
        Pool setup(only(config, {config.hosts[0]}));
        spur::test::run(io, setup.query("DROP TABLE IF EXISTS galera_jobs, galera_jobs_effects"));
        spur::mysql::Jobs jobs(setup, o);
        spur::test::run(io, jobs.create_table());
        for (int i = 0; i < 150; ++i) spur::test::run(io, jobs.enqueue("work", std::to_string(i)));
    }
    {
        Pool node2(only(config, {config.hosts[1]})), node3(only(config, {config.hosts[2]}));
        spur::test::run(io, sees_table(node2, "galera_jobs"));
        spur::test::run(io, sees_table(node3, "galera_jobs"));
    }
    spur::test::Instance one(only(config, {config.hosts[0]}), o), two(only(config, {config.hosts[1]}), o);
    std::mutex m;
    std::map<std::uint64_t, int> runs;
    auto record = [&](const spur::mysql::Job& job) -> spur::Task<> {
        std::lock_guard lock(m);
        ++runs[job.id];
        co_return;
    };
    one.jobs.handle("work", record);
    two.jobs.handle("work", record);
    one.start();
    two.start();
    Pool check(only(config, {config.hosts[2]}));
    const bool all_done = spur::test::eventually([&] {
        return spur::test::run(io, check.query("SELECT COUNT(*) FROM galera_jobs WHERE state = 'done'")).front().get<int>(0) == 150;
    }, std::chrono::seconds(60));
    one.stop();
    two.stop();
    REQUIRE(all_done);
    CHECK(runs.size() == 150);
    for (auto [id, n] : runs) CHECK(n == 1);
    spur::test::run(io, check.query("DROP TABLE galera_jobs, galera_jobs_effects"));
}

// spur::mysql::IdempotencyStore from two nodes at once: of two requests racing for one key, one
// takes it (the other sees it held: a duplicate key, or a lost certification).
TEST_CASE("an Idempotency-Key raced for through two Galera nodes is taken once", "[galera][idempotency]") {
    const auto config = app_config();
    boost::asio::io_context io;
    Pool node1(only(config, {config.hosts[0]})), node2(only(config, {config.hosts[1]}));
    spur::mysql::IdempotencyStoreOptions o;
    o.table = "galera_idempotency";
    spur::mysql::IdempotencyStore first(node1, o), second(node2, o);
    spur::test::run(io, node1.query("DROP TABLE IF EXISTS galera_idempotency"));
    spur::test::run(io, first.create_table());
    // Without this the race below could reach a node 2 that has not yet applied the CREATE.
    spur::test::run(io, sees_table(node2, "galera_idempotency"));
    using Outcome = spur::middleware::IdempotencyBegin::Outcome;
    int both = 0, neither = 0;
    for (int i = 0; i < 40; ++i) {
        const std::string key = "race-" + std::to_string(i);
        Outcome a = Outcome::in_flight, b = Outcome::in_flight;
        auto race = [&]() -> spur::Task<> {
            auto begin = [&](spur::mysql::IdempotencyStore& store, Outcome& out) -> spur::Task<> {
                auto got = co_await store.begin("scope", key, "fingerprint", std::chrono::milliseconds(10'000), std::chrono::seconds(60));
                out = got.outcome;
            };
            auto ex = co_await boost::asio::this_coro::executor;
            // Both at once: each begin() sends its INSERT before either has an answer.
            auto [order, e1, e2] = co_await boost::asio::experimental::make_parallel_group(
                                       boost::asio::co_spawn(ex, begin(first, a), boost::asio::deferred),
                                       boost::asio::co_spawn(ex, begin(second, b), boost::asio::deferred))
                                       .async_wait(boost::asio::experimental::wait_for_all(), boost::asio::use_awaitable);
            (void)order;
            if (e1) std::rethrow_exception(e1);
            if (e2) std::rethrow_exception(e2);
        };
        spur::test::run(io, race());
        both += a == Outcome::started && b == Outcome::started;
        neither += a != Outcome::started && b != Outcome::started;
    }
    CHECK(both == 0);
    CHECK(neither == 0);
    spur::test::run(io, node1.query("DROP TABLE galera_idempotency"));
}
