#pragma once
// What the spur::mysql::Jobs tests share: an "instance" (its pool, queue and I/O thread), the
// test's own view of the table, and a handler that waits until released.

#include <spur/mysql/jobs.hpp>

#include "mysql/jobs_instance.hpp"
#include "mysql/support.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <future>
#include <optional>
#include <string>
#include <thread>

namespace spur::test::jobs {

using namespace std::chrono_literals;

inline mysql::JobsOptions options_for(std::string table) {
    mysql::JobsOptions o;
    o.table = std::move(table);
    o.poll = 20ms;
    o.lease = 300ms;
    o.backoff = 20ms;
    o.gauge_interval = 50ms;
    return o;
}

using spur::test::Instance;

// The test's own view of the table.
struct Db {
    mysql::Pool pool{test_db(2)};
    boost::asio::io_context io;

    void reset(const mysql::JobsOptions& o) {
        run(io, pool.query("DROP TABLE IF EXISTS " + o.table + ", " + o.table + "_effects"));
        mysql::Jobs jobs(pool, o);
        run(io, jobs.create_table());
    }
    mysql::JobInfo job(mysql::Jobs& jobs, std::uint64_t id) {
        for (auto& j : run(io, jobs.list())) if (j.id == id) return j;
        FAIL("no job " << id);
        return {};
    }
    std::uint64_t enqueue(mysql::Jobs& jobs, std::string kind, std::string payload = "{}", mysql::JobOptions o = {}) {
        return run(io, jobs.enqueue(std::move(kind), std::move(payload), o));
    }
};

// A handler that waits until `release` is set (or it is cancelled).
inline Task<> hold(std::atomic<bool>& started, std::atomic<bool>& release) {
    started = true;
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    while (!release) {
        timer.expires_after(5ms);
        co_await timer.async_wait(boost::asio::use_awaitable);
    }
}


}  // namespace spur::test::jobs
