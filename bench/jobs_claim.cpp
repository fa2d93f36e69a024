// How workers should claim jobs from one table (spur::mysql::Jobs chose the first):
//   cas          SELECT a few due ids, then UPDATE … WHERE id = ? AND state = 'queued' (a
//                compare-and-set; 0 rows: another worker won, try the next id);
//   skip-locked  BEGIN; SELECT … LIMIT 1 FOR UPDATE SKIP LOCKED; UPDATE; COMMIT.
// N jobs are claimed by W workers per URL (several URLs: the nodes of one Galera cluster, each
// worker writing through its own node), each claim recorded. Prints claims per second, the
// statements a claim cost, the conflicts (deadlocks, Galera certification failures) and any job
// claimed twice.
//   jobs_claim URL [URL...] [--jobs N] [--workers W] [--strategy cas|skip-locked|both]
#include <spur/mysql.hpp>
#include <spur/random.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/core.h>

#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace net = boost::asio;
namespace mysql = spur::mysql;
using Clock = std::chrono::steady_clock;

namespace {

struct Tally {
    std::map<std::uint64_t, int> claimed;  // one I/O thread: no lock
    std::uint64_t statements = 0, conflicts = 0, misses = 0;
};

const char* table = "bench_jobs_claim";

spur::Task<bool> claim_cas(mysql::Pool& pool, Tally& t, std::mt19937& random) {
    auto due = co_await pool.query(std::string("SELECT id FROM ") + table +
                                   " WHERE state = 'queued' ORDER BY priority DESC, run_at, id LIMIT 8");
    ++t.statements;
    if (due.empty()) co_return false;
    const std::size_t start = std::uniform_int_distribution<std::size_t>(0, due.size() - 1)(random);
    for (std::size_t i = 0; i < due.size(); ++i) {
        const auto id = due.rows[(start + i) % due.size()].get<std::uint64_t>(0);
        mysql::Result r;
        try {
            ++t.statements;
            r = co_await pool.execute(std::string("UPDATE ") + table + " SET state = 'running' WHERE id = ? AND state = 'queued'", id);
        } catch (const mysql::Error& e) {
            if (!e.transaction_conflict()) throw;
            ++t.conflicts;
            continue;
        }
        if (r.affected_rows == 1) {
            ++t.claimed[id];
            co_return true;
        }
        ++t.misses;
    }
    co_return true;  // all taken meanwhile: look again
}

spur::Task<bool> claim_skip_locked(mysql::Pool& pool, Tally& t) {
    auto c = co_await pool.acquire();
    std::uint64_t id = 0;
    bool conflict = false;
    try {
        co_await c->begin();
        auto due = co_await c->query(std::string("SELECT id FROM ") + table +
                                     " WHERE state = 'queued' ORDER BY priority DESC, run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED");
        t.statements += 2;
        if (!due.empty()) {
            id = due.front().get<std::uint64_t>(0);
            co_await c->execute(std::string("UPDATE ") + table + " SET state = 'running' WHERE id = ?", id);
            co_await c->commit();
            t.statements += 2;
        } else {
            co_await c->rollback();
        }
    } catch (const mysql::Error& e) {
        if (!e.transaction_conflict()) throw;
        conflict = true;
    }
    if (conflict) {
        ++t.conflicts;
        co_await c->rollback_or_discard();
        co_return true;
    }
    if (id == 0) {
        // Nothing unlocked: done only when nothing is queued at all.
        auto left = co_await c->query(std::string("SELECT COUNT(*) FROM ") + table + " WHERE state = 'queued'");
        co_return left.front().get<std::uint64_t>(0) > 0;
    }
    ++t.claimed[id];
    co_return true;
}

spur::Task<> worker(mysql::Pool& pool, Tally& t, bool cas, unsigned seed) {
    std::mt19937 random(seed);
    for (;;) {
        const bool more = cas ? co_await claim_cas(pool, t, random) : co_await claim_skip_locked(pool, t);
        if (!more) co_return;
    }
}

void fill(const std::string& url, int jobs) {
    net::io_context io;
    mysql::Pool pool(mysql::parse_url(url));
    auto make = [&]() -> spur::Task<> {
        co_await pool.query(std::string("DROP TABLE IF EXISTS ") + table);
        // The shape of spur::mysql::Jobs's table, reduced to what claiming reads.
        co_await pool.query(std::string("CREATE TABLE ") + table +
                            " (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, state ENUM('queued','running') NOT NULL,"
                            " priority INT NOT NULL, run_at DATETIME(3) NOT NULL, KEY due (state, priority DESC, run_at)) ENGINE=InnoDB");
        for (int done = 0; done < jobs; done += 500) {
            std::string values;
            for (int i = done; i < std::min(jobs, done + 500); ++i) {
                if (!values.empty()) values += ',';
                values += "('queued', 0, UTC_TIMESTAMP(3))";
            }
            co_await pool.query(std::string("INSERT INTO ") + table + " (state, priority, run_at) VALUES " + values);
        }
        co_await pool.close();
    };  // named: the coroutine refers to its captures until io.run() returns
    net::co_spawn(io, make(), [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
    io.run();
}

void measure(const std::vector<std::string>& urls, int jobs, int workers, bool cas) {
    fill(urls.front(), jobs);
    net::io_context io(1);
    std::vector<std::unique_ptr<mysql::Pool>> pools;
    Tally t;
    for (auto& url : urls) {
        auto config = mysql::parse_url(url);
        config.pool_max = static_cast<std::size_t>(workers);
        pools.push_back(std::make_unique<mysql::Pool>(config));
    }
    unsigned seed = 1;
    for (auto& pool : pools)
        for (int w = 0; w < workers; ++w)
            net::co_spawn(io, worker(*pool, t, cas, seed++), [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
    const auto start = Clock::now();
    io.run();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    int twice = 0;
    for (auto& [id, n] : t.claimed) twice += n > 1;
    fmt::print("{:<12} {:>2} node(s) x {:>2} workers: {:>6} jobs in {:6.2f} s = {:>7.0f} claims/s, {:.2f} statements/claim, "
               "{} conflicts, {} lost races, {} claimed twice, {} unclaimed\n",
               cas ? "cas" : "skip-locked", urls.size(), workers, t.claimed.size(), seconds, t.claimed.size() / seconds,
               static_cast<double>(t.statements) / std::max<std::size_t>(1, t.claimed.size()), t.conflicts, t.misses, twice,
               jobs - static_cast<int>(t.claimed.size()));
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> urls;
    int jobs = 2000, workers = 4;
    std::string strategy = "both";
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--jobs" && i + 1 < argc) jobs = std::stoi(argv[++i]);
        else if (a == "--workers" && i + 1 < argc) workers = std::stoi(argv[++i]);
        else if (a == "--strategy" && i + 1 < argc) strategy = argv[++i];
        else urls.push_back(a);
    }
    if (urls.empty()) {
        fmt::print(stderr, "usage: jobs_claim URL [URL...] [--jobs N] [--workers W] [--strategy cas|skip-locked|both]\n");
        return 2;
    }
    if (strategy != "skip-locked") measure(urls, jobs, workers, true);
    if (strategy != "cas") measure(urls, jobs, workers, false);
}
