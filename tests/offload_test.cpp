#include <spur/http_error.hpp>
#include <spur/offload.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

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

TEST_CASE("offload returns move-only results and rethrows exceptions", "[offload]") {
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

TEST_CASE("the blocking pool runs exactly as many tasks at once as it has threads", "[offload]") {
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

TEST_CASE("past the blocking queue limit offload answers 503 overloaded instead of queueing", "[offload]") {
    boost::asio::io_context io;
    spur::set_blocking_threads(io, 1);
    spur::set_blocking_queue_limit(io, 2);
    std::atomic<bool> release{false};
    std::atomic<int> done{0}, refused{0};
    auto job = [&]() -> spur::Task<> {
        try {
            auto wait = [&] {
                while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            };
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
    release = true;
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
