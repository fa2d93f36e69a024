#pragma once
// A gate that handlers (or any coroutine) wait at until the test opens it: for "a request
// that is still being handled" without guessing how long to keep it busy. The test can wait
// until a number of coroutines have arrived, then act, then open the gate.

#include <spur/task.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

namespace spur::test {

class Gate {
public:
    /// Suspends the calling coroutine until open() (true) or until `limit` has passed (false:
    /// the test never opened it; the coroutine goes on so that the server can still stop).
    /// Throws operation_aborted if the coroutine is cancelled meanwhile. The coroutine's
    /// executor must be run by one thread at a time (each of spur's I/O threads runs its own
    /// io_context; so do the test client and the mysql tests): open() cancels its timer there.
    Task<bool> wait(std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
        auto waiter = std::make_shared<Waiter>(co_await boost::asio::this_coro::executor, limit);
        bool open = false;
        {
            std::lock_guard lock(mutex_);
            ++arrived_;
            changed_.notify_all();
            open = open_;
            if (!open) waiters_.push_back(waiter);
        }
        if (open) co_return true;
        boost::system::error_code ec;
        co_await waiter->timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        if (waiter->opened) co_return true;
        if (ec) throw boost::system::system_error(ec);  // cancelled by the coroutine's owner
        co_return false;
    }

    /// Lets every waiting coroutine, and every later one, through. Thread-safe.
    void open() {
        std::lock_guard lock(mutex_);
        open_ = true;
        for (auto& weak : waiters_) {
            if (auto w = weak.lock()) {
                boost::asio::post(w->timer.get_executor(), [w] {
                    w->opened = true;
                    w->timer.cancel();
                });
            }
        }
        waiters_.clear();
        changed_.notify_all();
    }

    /// Whether `count` coroutines have arrived at the gate (in all) within `limit`.
    bool wait_arrived(int count = 1, std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, limit, [&] { return arrived_ >= count; });
    }

    /// How many coroutines have arrived so far.
    int arrived() {
        std::lock_guard lock(mutex_);
        return arrived_;
    }

private:
    struct Waiter {
        Waiter(boost::asio::any_io_executor ex, std::chrono::milliseconds limit) : timer(std::move(ex), limit) {}
        boost::asio::steady_timer timer;
        bool opened = false;  // set and read on the timer's executor only
    };

    std::mutex mutex_;
    std::condition_variable changed_;
    // Weak: a waiter (its timer) belongs to the waiting coroutine and must not outlive its
    // io_context, which a Gate declared before the server does.
    std::vector<std::weak_ptr<Waiter>> waiters_;
    int arrived_ = 0;
    bool open_ = false;
};

}  // namespace spur::test
