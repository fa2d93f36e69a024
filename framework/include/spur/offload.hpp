#pragma once
// spur::offload — run blocking or CPU-heavy work off the I/O threads and co_await its result.

#include <spur/task.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace spur {

/// One kind of blocking work with a share of the blocking pool of its own: at most `limit`
/// of its jobs queued or running at once, and those are not counted against the pool's
/// queue limit (ServerOptions::max_blocking_queue). A flood of one kind — password checks of
/// account maintenance, say — then fills its own share and gets 503, while another kind
/// (logins) still finds room. The threads are shared: a class bounds how much of the queue it
/// can take, not which thread runs it. Thread-safe; must outlive its jobs.
///     spur::WorkClass logins("login", 32);
///     auto ok = co_await spur::offload(logins, check);
class WorkClass {
public:
    /// `limit` 0 means no limit of its own (the class's jobs are then unbounded: avoid).
    WorkClass(std::string name, std::size_t limit) : name_(std::move(name)), limit_(limit) {}
    WorkClass(const WorkClass&) = delete;
    WorkClass& operator=(const WorkClass&) = delete;

    /// The name given at construction, for logs and metrics.
    std::string_view name() const noexcept { return name_; }
    /// Jobs of this class queued or running now.
    std::size_t pending() const noexcept { return pending_.load(std::memory_order_relaxed); }

    /// Counts one job in; false (nothing counted) if `limit` jobs are already in.
    bool enter() noexcept {
        const std::size_t before = pending_.fetch_add(1, std::memory_order_relaxed);
        if (limit_ != 0 && before >= limit_) {
            pending_.fetch_sub(1, std::memory_order_relaxed);
            return false;
        }
        return true;
    }
    /// Counts one job out.
    void leave() noexcept { pending_.fetch_sub(1, std::memory_order_relaxed); }

private:
    std::string name_;
    std::size_t limit_;
    std::atomic<std::size_t> pending_{0};
};

namespace detail {
/// The executor of the blocking pool that belongs to `context` (created on first use).
boost::asio::thread_pool::executor_type blocking_executor(boost::asio::execution_context& context);

/// One job counted against the blocking pool's queue limit while it lives. Throws
/// HttpError(503, "overloaded") when the queue is full.
class BlockingSlot {
public:
    explicit BlockingSlot(boost::asio::execution_context& context);
    ~BlockingSlot();
    BlockingSlot(const BlockingSlot&) = delete;
    BlockingSlot& operator=(const BlockingSlot&) = delete;

private:
    boost::asio::execution_context& context_;
};

/// Makes `user`'s blocking pool the one of `owner` (its threads, queue and limit): a server
/// with one io_context per I/O thread has one blocking pool. `owner` must outlive `user`.
void share_blocking_pool(boost::asio::execution_context& owner, boost::asio::execution_context& user);
}  // namespace detail

/// Sets the thread count of `context`'s blocking pool; effective only before the pool's first use.
void set_blocking_threads(boost::asio::execution_context& context, unsigned threads);
/// Caps the jobs queued or running on `context`'s blocking pool (0 = no cap, the default of
/// a bare io_context; Server applies ServerOptions::max_blocking_queue). Past it offload()
/// throws HttpError(503, "overloaded") instead of queueing work nobody will wait for.
void set_blocking_queue_limit(boost::asio::execution_context& context, std::size_t limit);

namespace detail {
/// One job of a WorkClass counted while it lives. Throws HttpError(503, "overloaded") when
/// the class is full.
class WorkClassSlot {
public:
    explicit WorkClassSlot(WorkClass& work);
    ~WorkClassSlot() { work_.leave(); }
    WorkClassSlot(const WorkClassSlot&) = delete;
    WorkClassSlot& operator=(const WorkClassSlot&) = delete;

private:
    WorkClass& work_;
};

template <class F>
constexpr void check_gcc12_offload() {
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
    // GCC 12 destroys an aggregate temporary (such as a lambda with by-value captures) in a
    // co_await expression twice: a double free. Refuse it here rather than corrupt memory.
    static_assert(std::is_lvalue_reference_v<F> || std::is_trivially_destructible_v<std::remove_reference_t<F>>,
                  "GCC 12 bug: a lambda with non-trivial by-value captures written inside `co_await offload(...)` "
                  "is destroyed twice. Name it first (`auto work = [x]{...}; co_await spur::offload(work);`) "
                  "or capture by reference.");
#endif
}

/// Posts `fn()` to `pool` and hands its outcome to `handler` on the handler's own executor
/// (kept busy meanwhile, so that its io_context does not run out of work). R is fn()'s result.
template <class R, class F, class Handler>
void launch_on_blocking_pool(boost::asio::thread_pool::executor_type pool, F& fn, Handler handler) {
    auto home = boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                    boost::asio::execution::outstanding_work.tracked);
    boost::asio::post(pool, [&fn, home = std::move(home), handler = std::move(handler)]() mutable {
        std::exception_ptr failure;
        if constexpr (std::is_void_v<R>) {
            try {
                fn();
            } catch (...) {
                failure = std::current_exception();
            }
            boost::asio::post(home, [handler = std::move(handler), failure]() mutable { std::move(handler)(failure); });
        } else {
            std::optional<R> result;
            try {
                result.emplace(fn());
            } catch (...) {
                failure = std::current_exception();
            }
            boost::asio::post(home, [handler = std::move(handler), failure, result = std::move(result)]() mutable {
                std::move(handler)(failure, std::move(result));
            });
        }
    });
}

/// Runs `fn()` on the blocking pool of `executor`'s context and resumes on `executor`.
template <class F, class Executor>
Task<std::invoke_result_t<F&>> run_on_blocking_pool(F& fn, const Executor& executor) {
    using R = std::invoke_result_t<F&>;
    auto pool = blocking_executor(executor.context());
    // The outcome goes straight to the caller's executor. Through co_spawn it went back
    // through the pool's own queue first, so a finished job's caller waited until every job
    // queued after it had started — a login behind a flood of another kind of work waited
    // for the whole flood. The job is not cancellable (it blocks), and the caller's
    // cancellation slot is never used (Boost 1.81's co_spawn cancellation handler could be
    // used after it was freed, asio issue #1332): the caller sees its cancellation at its
    // next co_await instead.
    auto start = [pool, &fn](auto handler) { launch_on_blocking_pool<R>(pool, fn, std::move(handler)); };
    if constexpr (std::is_void_v<R>) {
        co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(std::exception_ptr)>(
            start, boost::asio::use_awaitable);
    } else {
        auto result = co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                                            void(std::exception_ptr, std::optional<R>)>(
            start, boost::asio::use_awaitable);
        co_return std::move(*result);
    }
}
}  // namespace detail

/// Runs `fn()` on the blocking pool of the current io_context and resumes the caller on its
/// own executor with the result; an exception thrown by `fn` is rethrown to the caller.
/// Other connections keep being served meanwhile:
///     auto hash = co_await spur::offload([&] { return bcrypt(password); });
/// `fn` is used by reference: it must live until the co_await completes (a temporary does).
/// Throws HttpError(503, "overloaded") when the pool's queue is full (set_blocking_queue_limit).
template <class F>
Task<std::invoke_result_t<F&>> offload(F&& fn) {
    detail::check_gcc12_offload<F>();
    auto executor = co_await boost::asio::this_coro::executor;
    detail::BlockingSlot slot(executor.context());
    co_return co_await detail::run_on_blocking_pool(fn, executor);
}

/// As offload(fn), counted against `work`'s own share instead of the pool's queue limit:
/// throws HttpError(503, "overloaded") when `work` already has its limit of jobs queued or
/// running, whatever other work is doing.
template <class F>
Task<std::invoke_result_t<F&>> offload(WorkClass& work, F&& fn) {
    detail::check_gcc12_offload<F>();
    auto executor = co_await boost::asio::this_coro::executor;
    detail::WorkClassSlot slot(work);
    co_return co_await detail::run_on_blocking_pool(fn, executor);
}

}  // namespace spur
