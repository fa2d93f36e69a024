#pragma once
// What the spur::mysql::Jobs tests share: an "instance" (its pool, queue and I/O thread), the
// test's own view of the table, and a handler that waits until released.

#include <spur/mysql/jobs.hpp>

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

// One instance of an application: its own pool, queue object and I/O thread.
// Members in this order: the io_context goes first, with the coroutines that lease connections.
struct Instance {
    explicit Instance(mysql::JobsOptions o) : pool(test_db(6)), jobs(pool, std::move(o)) {}
    ~Instance() {
        if (thread.joinable()) crash();
    }
    void start() {
        jobs.start(io.get_executor());
        guard.emplace(io.get_executor());
        thread = std::thread([this] { io.run(); });
    }
    // The drain and stop of a clean shutdown.
    void stop() {
        std::promise<void> stopped;
        boost::asio::co_spawn(io, jobs.stop(), [&](std::exception_ptr) { stopped.set_value(); });
        stopped.get_future().wait();
        guard.reset();
        thread.join();
    }
    // The process dies: not one more statement reaches the database from it.
    void crash() {
        io.stop();
        thread.join();
    }

    mysql::Pool pool;
    mysql::Jobs jobs;
    boost::asio::io_context io;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard;
    std::thread thread;
};

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
