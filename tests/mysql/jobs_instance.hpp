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
// The io_context is declared first, so it is destroyed last: after a crash() (no stop()), the
// workers' frames and the queue's strand and timer die in its shutdown, while its services still
// exist; the frames' pool leases go back to the pool's shared state, which outlives the Pool.
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

    boost::asio::io_context io;
    spur::mysql::Pool pool;
    spur::mysql::Jobs jobs;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard;
    std::thread thread;
};

}  // namespace spur::test
