#pragma once
// A coroutine pause on the caller's executor, for handlers and tasks in tests.

#include <spur/task.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>

namespace spur::test {

/// Waits `d`; throws operation_aborted if the awaiting coroutine is cancelled meanwhile.
inline Task<> sleep_for(std::chrono::milliseconds d) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, d);
    co_await timer.async_wait(boost::asio::use_awaitable);
}

}  // namespace spur::test
