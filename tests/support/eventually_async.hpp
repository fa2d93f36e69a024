#pragma once
// eventually() for coroutines: waits for state that other coroutines on the same io_context
// (or a database server) change, without blocking the thread that has to change it.

#include <spur/task.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <type_traits>

namespace spur::test {

/// Whether `pred()` holds within `limit`, asked every 10 ms. `pred` returns bool, or a
/// Task<bool> (a question for the database, say).
template <class Pred>
Task<bool> eventually_async(Pred pred, std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        bool holds = false;
        if constexpr (std::is_convertible_v<std::invoke_result_t<Pred&>, bool>) holds = pred();
        else holds = co_await pred();
        if (holds) co_return true;
        if (std::chrono::steady_clock::now() > deadline) co_return false;
        timer.expires_after(std::chrono::milliseconds(10));
        co_await timer.async_wait(boost::asio::use_awaitable);
    }
}

}  // namespace spur::test
