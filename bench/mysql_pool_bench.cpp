// N concurrent queries on a pool of M connections, all on ONE I/O thread, against the same
// queries made with blocking Connector/C calls on that thread. Also measures how late a 1 ms
// ticker on the same thread runs: the lag other requests would see.
//   mysql_pool_bench URL [--queries N] [--concurrency C] [--pool M] [--sleep-ms S]
#include <spur/mysql.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/core.h>
#include <mysql.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

struct Options {
    std::string url;
    int queries = 400, concurrency = 32, pool = 8;
    double sleep_ms = 2;
};

struct Outcome {
    double seconds, per_second, max_lag_ms;
};

// Ticks every millisecond until *stop, recording the worst delay past each deadline.
spur::Task<> ticker(net::io_context& io, const bool& stop, double& max_lag_ms) {
    net::steady_timer t(io);
    while (!stop) {
        auto deadline = Clock::now() + std::chrono::milliseconds(1);
        t.expires_at(deadline);
        co_await t.async_wait(net::use_awaitable);
        max_lag_ms = std::max(max_lag_ms, std::chrono::duration<double, std::milli>(Clock::now() - deadline).count());
    }
}

Outcome run_async(const Options& o, const std::string& sql) {
    net::io_context io(1);
    auto config = spur::mysql::parse_url(o.url);
    config.pool_max = static_cast<std::size_t>(o.pool);
    spur::mysql::Pool pool(config);
    int remaining = o.queries, workers = o.concurrency;
    bool stop = false;
    double lag = 0;
    auto start = Clock::now();
    for (int w = 0; w < o.concurrency; ++w) {
        net::co_spawn(io, [&]() -> spur::Task<> {
            while (remaining > 0) {
                --remaining;
                co_await pool.execute(sql);
            }
            if (--workers == 0) stop = true;
        }, net::detached);
    }
    net::co_spawn(io, ticker(io, stop, lag), net::detached);
    io.run();
    double s = std::chrono::duration<double>(Clock::now() - start).count();
    return {s, o.queries / s, lag};
}

Outcome run_blocking(const Options& o, const std::string& sql) {
    auto c = spur::mysql::parse_url(o.url);
    MYSQL* m = mysql_init(nullptr);
    if (!mysql_real_connect(m, c.host.c_str(), c.user.c_str(), c.password.c_str(), c.database.c_str(), c.port,
                            c.socket.empty() ? nullptr : c.socket.c_str(), 0))
        throw std::runtime_error(mysql_error(m));
    // The same single thread: each blocking call holds it, so the ticker waits behind it.
    net::io_context io(1);
    bool stop = false;
    double lag = 0;
    auto start = Clock::now();
    net::co_spawn(io, ticker(io, stop, lag), net::detached);
    net::co_spawn(io, [&]() -> spur::Task<> {
        net::steady_timer yield(io);
        for (int i = 0; i < o.queries; ++i) {
            if (mysql_real_query(m, sql.data(), sql.size())) throw std::runtime_error(mysql_error(m));
            mysql_free_result(mysql_store_result(m));
            yield.expires_after(std::chrono::seconds(0));
            co_await yield.async_wait(net::use_awaitable);  // let the ticker run between calls
        }
        stop = true;
    }, net::detached);
    io.run();
    double s = std::chrono::duration<double>(Clock::now() - start).count();
    mysql_close(m);
    return {s, o.queries / s, lag};
}

int main(int argc, char** argv) {
    Options o;
    if (argc < 2) {
        fmt::print(stderr, "usage: {} URL [--queries N] [--concurrency C] [--pool M] [--sleep-ms S]\n", argv[0]);
        return 2;
    }
    o.url = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        std::string k = argv[i];
        if (k == "--queries") o.queries = std::stoi(argv[i + 1]);
        else if (k == "--concurrency") o.concurrency = std::stoi(argv[i + 1]);
        else if (k == "--pool") o.pool = std::stoi(argv[i + 1]);
        else if (k == "--sleep-ms") o.sleep_ms = std::stod(argv[i + 1]);
    }
    // SLEEP stands in for server-side work: a query that takes a while, as real ones do.
    std::string sql = fmt::format("SELECT SLEEP({:.4f})", o.sleep_ms / 1000.0);
    auto a = run_async(o, sql);
    auto b = run_blocking(o, sql);
    fmt::print("| mode (1 I/O thread, {} queries of {} ms server time) | seconds | queries/s | worst ticker lag |\n",
               o.queries, o.sleep_ms);
    fmt::print("|---|---:|---:|---:|\n");
    fmt::print("| spur::mysql, {} coroutines, pool of {} | {:.3f} | {:.0f} | {:.1f} ms |\n", o.concurrency, o.pool, a.seconds,
               a.per_second, a.max_lag_ms);
    fmt::print("| blocking mysql_real_query | {:.3f} | {:.0f} | {:.1f} ms |\n", b.seconds, b.per_second, b.max_lag_ms);
    fmt::print("\nspeed-up {:.1f}x; the async run kept the thread free (lag {:.1f} ms vs {:.1f} ms)\n",
               a.per_second / b.per_second, a.max_lag_ms, b.max_lag_ms);
    return 0;
}
