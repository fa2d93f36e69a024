#pragma once
// One instance of an application running spur::mysql::Jobs workers, for the tests: its own pool,
// queue object and I/O thread; it can stop cleanly or "crash" (no statement reaches the database
// from it any more).

#include <spur/mysql/jobs.hpp>

#include "mysql/support.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <future>
#include <optional>
#include <thread>

namespace spur::test {

// One instance of an application: its own pool, queue object and I/O thread.
// Members in this order: the io_context goes first, with the coroutines that lease connections.
struct Instance {
    Instance(spur::mysql::Config config, spur::mysql::JobsOptions o) : pool(std::move(config)), jobs(pool, std::move(o)) {}
    /// On the test database.
    explicit Instance(spur::mysql::JobsOptions o) : Instance(test_db(6), std::move(o)) {}
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

    spur::mysql::Pool pool;
    spur::mysql::Jobs jobs;
    boost::asio::io_context io;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard;
    std::thread thread;
};

}  // namespace spur::test
