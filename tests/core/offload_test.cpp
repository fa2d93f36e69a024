#include <spur/http_error.hpp>
#include <spur/offload.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "support/flag.hpp"
#include "support/run_until.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <thread>

namespace {
template <class T>
T run(boost::asio::io_context& io, spur::Task<T> task) {
    std::exception_ptr failure;
    std::optional<T> result;
    boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
        failure = e;
        if (!e) result.emplace(std::move(value));
    });
    io.restart();
    io.run();
    if (failure) std::rethrow_exception(failure);
    return std::move(*result);
}
}  // namespace

TEST_CASE("offload returns move-only results and rethrows exceptions", "[core][offload][concurrency]") {
    boost::asio::io_context io;
    auto value = run(io, []() -> spur::Task<int> {
        auto p = co_await spur::offload([] { return std::make_unique<int>(5); });
        co_return *p;
    }());
    CHECK(value == 5);
    CHECK_THROWS_WITH(run(io, []() -> spur::Task<int> {
                          co_await spur::offload([] { throw std::runtime_error("worker failed"); });
                          co_return 0;
                      }()),
                      "worker failed");
}

TEST_CASE("the blocking pool runs exactly as many tasks at once as it has threads", "[core][offload][concurrency]") {
    boost::asio::io_context io;
    spur::set_blocking_threads(io, 3);
    std::atomic<int> running{0};
    std::atomic<int> peak{0};
    for (int i = 0; i < 6; ++i) {
        boost::asio::co_spawn(
            io,
            [&]() -> spur::Task<> {
                co_await spur::offload([&] {
                    int now = ++running;
                    int seen = peak.load();
                    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
                    }
                    // Held long enough for a fourth thread, if there were one, to show: the subject.
                    std::this_thread::sleep_for(std::chrono::milliseconds(100));
                    --running;
                });
            },
            boost::asio::detached);
    }
    io.run();
    CHECK(peak == 3);
    CHECK(running == 0);
}

TEST_CASE("past the blocking queue limit offload answers 503 overloaded instead of queueing", "[core][offload][concurrency]") {
    boost::asio::io_context io;
    spur::set_blocking_threads(io, 1);
    spur::set_blocking_queue_limit(io, 2);
    spur::test::Flag release;
    std::atomic<int> done{0}, refused{0};
    auto job = [&]() -> spur::Task<> {
        try {
            auto wait = [&] { release.wait(); };
            co_await spur::offload(wait);
            ++done;
        } catch (const spur::HttpError& e) {
            CHECK(e.status() == 503);
            CHECK(e.code() == "overloaded");
            ++refused;
        }
    };
    for (int i = 0; i < 5; ++i) boost::asio::co_spawn(io, job(), boost::asio::detached);
    // Three are refused at once (one runs, one waits); then the two finish once released.
    while (refused < 3) io.run_one();
    release.raise();
    io.run();
    CHECK(done == 2);
    CHECK(refused == 3);
    // The slots are free again.
    std::atomic<int> later{0};
    boost::asio::co_spawn(io, [&]() -> spur::Task<> { co_await spur::offload([&] { ++later; }); }, boost::asio::detached);
    io.restart();
    io.run();
    CHECK(later == 1);
}

TEST_CASE("a full WorkClass answers 503 for its own jobs while other work still finds room", "[core][offload][concurrency]") {
    boost::asio::io_context io;
    spur::set_blocking_threads(io, 2);
    spur::set_blocking_queue_limit(io, 1);
    spur::WorkClass maintenance("maintenance", 2);
    spur::WorkClass logins("login", 1);
    spur::test::Flag release;
    std::atomic<int> done{0}, refused{0}, login_done{0}, plain_done{0};
    auto wait = [&] { release.wait(); };
    auto flood = [&]() -> spur::Task<> {
        try {
            co_await spur::offload(maintenance, wait);
            ++done;
        } catch (const spur::HttpError& e) {
            CHECK(e.code() == "overloaded");
            ++refused;
        }
    };
    for (int i = 0; i < 5; ++i) boost::asio::co_spawn(io, flood(), boost::asio::detached);
    while (refused < 3) io.run_one();
    CHECK(maintenance.pending() == 2);
    // The class's jobs count against its own share, not the pool's queue of one: a login and
    // an unclassed job still get in (and run once a thread is free).
    boost::asio::co_spawn(io, [&]() -> spur::Task<> { co_await spur::offload(logins, [&] { ++login_done; }); }, boost::asio::detached);
    boost::asio::co_spawn(io, [&]() -> spur::Task<> { co_await spur::offload([&] { ++plain_done; }); }, boost::asio::detached);
    while (logins.pending() == 0 && login_done == 0) io.run_one();
    release.raise();
    io.run();
    CHECK(done == 2);
    CHECK(refused == 3);
    CHECK(login_done == 1);
    CHECK(plain_done == 1);
    CHECK(maintenance.pending() == 0);
    CHECK(logins.pending() == 0);
}

// Through co_spawn the outcome of a job went back through the pool's queue, behind every job
// queued after it: with one blocking thread held by a later job, a finished job's caller never
// resumed until that job ended (a login behind a flood of another kind of work waited for it).
TEST_CASE("a finished job's caller resumes while later jobs still hold the pool", "[core][offload][concurrency]") {
    boost::asio::io_context io;
    spur::set_blocking_threads(io, 1);
    spur::WorkClass quick("quick", 1), slow("slow", 4);
    spur::test::Flag release;
    std::atomic<bool> quick_resumed{false};
    std::atomic<int> slow_started{0};
    boost::asio::co_spawn(
        io,
        [&]() -> spur::Task<> {
            auto work = [] { return 42; };
            auto answer = co_await spur::offload(quick, work);
            CHECK(answer == 42);
            quick_resumed = true;
        },
        boost::asio::detached);
    for (int i = 0; i < 3; ++i) {
        boost::asio::co_spawn(
            io,
            [&]() -> spur::Task<> {
                auto hold = [&] {
                    ++slow_started;
                    release.wait();
                };
                co_await spur::offload(slow, hold);
            },
            boost::asio::detached);
    }
    spur::test::run_until(io, [&] { return quick_resumed && slow_started == 1; });
    CHECK(quick_resumed);
    CHECK(slow_started == 1);  // the one thread is held by the first slow job, the others wait
    release.raise();
    io.run();
    CHECK(slow_started == 3);
}
