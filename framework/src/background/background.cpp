#include "background/background.hpp"

#include <spur/app.hpp>
#include <spur/background/background.hpp>

#include "util/exception_message.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/core.h>

#include <stdexcept>

#include <algorithm>

namespace spur::detail {

namespace net = boost::asio;

// One task in flight. Its cancellation signal is emitted, and its completion handled, on its
// own strand only: Asio's signals are not thread-safe.
struct Background::Running {
    explicit Running(net::any_io_executor e) : executor(std::move(e)) {}
    net::any_io_executor executor;
    net::cancellation_signal signal;
    bool done = false;       // under the mutex
    bool cancelled = false;  // on `executor`
};

std::shared_ptr<Background::Running> Background::track(const net::any_io_executor& executor) {
    std::lock_guard lock(mutex_);
    if (stopping_) return nullptr;
    running_.push_back(std::make_shared<Running>(executor));
    return running_.back();
}

net::cancellation_slot Background::slot(Running& entry) { return entry.signal.slot(); }

bool Background::cancelled(const Running& entry) { return entry.cancelled; }

namespace {

bool cancelled(net::cancellation_state state) { return state.cancelled() != net::cancellation_type::none; }

// Runs `task` once or every `interval` until cancelled. A failure is logged and, for a
// periodic task, the next run still happens: one failed purge must not end the purging.
Task<> supervise(Background::TaskFn task, std::string name, std::optional<std::chrono::milliseconds> interval,
                 const LogSink& log) {
    std::optional<net::steady_timer> timer;
    if (interval) timer.emplace(co_await net::this_coro::executor);
    for (;;) {
        if (timer) {
            timer->expires_after(*interval);
            co_await timer->async_wait(net::use_awaitable);  // throws when cancelled: the loop ends
        }
        std::string failure;
        try {
            co_await task();
        } catch (...) {
            failure = exception_message(std::current_exception());
        }
        if (cancelled(co_await net::this_coro::cancellation_state)) co_return;
        if (!failure.empty()) log(LogLevel::error, fmt::format("background task '{}' failed: {}", name, failure));
        if (!timer) co_return;
    }
}

}  // namespace

Background::~Background() = default;

void Background::every(std::chrono::milliseconds interval, TaskFn task, std::string name) {
    if (interval.count() <= 0) throw std::invalid_argument("every(): the interval must be positive");
    if (!task) throw std::invalid_argument("every(): empty task");
    std::lock_guard lock(mutex_);
    if (executor_) throw std::logic_error("spur: every() after the app started serving; use spawn()");
    periodic_.push_back({interval, std::move(task), std::move(name)});
}

bool Background::spawn(TaskFn task, std::string name) {
    if (!task) throw std::invalid_argument("spawn(): empty task");
    std::unique_lock lock(mutex_);
    if (stopping_) return false;
    if (!executor_) {
        queued_.emplace_back(std::move(task), std::move(name));
        return true;
    }
    lock.unlock();
    launch(std::move(task), std::move(name), std::nullopt);
    return true;
}

void Background::start(const net::any_io_executor& executor) {
    std::vector<std::pair<TaskFn, std::string>> queued;
    {
        std::lock_guard lock(mutex_);
        if (executor_) return;
        executor_ = executor;
        queued.swap(queued_);
    }
    for (auto& p : periodic_) launch(p.task, p.name, p.interval);
    for (auto& [task, name] : queued) launch(std::move(task), std::move(name), std::nullopt);
}

void Background::launch(TaskFn task, std::string name, std::optional<std::chrono::milliseconds> interval) {
    std::shared_ptr<Running> entry;
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        entry = std::make_shared<Running>(net::make_strand(*executor_));
        running_.push_back(entry);
    }
    auto work = supervise(std::move(task), std::move(name), interval, log_);
    net::co_spawn(entry->executor, std::move(work),
                  net::bind_cancellation_slot(entry->signal.slot(),
                                              net::bind_executor(entry->executor, [this, entry](std::exception_ptr) {
                                                  finished(entry);
                                              })));
}

void Background::finished(const std::shared_ptr<Running>& entry) {
    std::function<void()> idle;
    {
        std::lock_guard lock(mutex_);
        entry->done = true;
        running_.erase(std::remove(running_.begin(), running_.end(), entry), running_.end());
        if (stopping_ && running_.empty()) idle = std::move(on_idle_);
    }
    if (idle) idle();
}

void Background::stop(std::function<void()> done) {
    std::vector<std::shared_ptr<Running>> running;
    bool again = false;
    {
        std::lock_guard lock(mutex_);
        again = stopping_;
        stopping_ = true;
        queued_.clear();
        running = running_;
        if (!running.empty() && done) {
            // A second stop (the app served by another server since) waits with the first.
            on_idle_ = on_idle_ ? [first = std::move(on_idle_), then = std::move(done)] { first(); then(); } : std::move(done);
        }
    }
    if (running.empty()) {
        if (done) done();
        return;
    }
    if (again) return;
    for (auto& entry : running) {
        net::post(entry->executor, [this, entry] {
            {
                std::lock_guard lock(mutex_);
                if (entry->done) return;
            }
            entry->cancelled = true;
            entry->signal.emit(net::cancellation_type::terminal);
        });
    }
}

std::size_t Background::running() const {
    std::lock_guard lock(mutex_);
    return running_.size();
}

}  // namespace spur::detail

namespace spur {

void every(App& app, std::chrono::milliseconds interval, std::function<Task<>()> task, std::string name) {
    if (app.extensions().frozen())
        throw std::logic_error("spur::every: the app is serving already (use spur::spawn)");
    app.extensions().emplace<detail::Background>(app.log())
        .every(interval, std::move(task), name.empty() ? "every " + std::to_string(interval.count()) + " ms" : std::move(name));
}

bool spawn(App& app, std::function<Task<>()> task, std::string name) {
    return app.extensions().emplace<detail::Background>(app.log())
        .spawn(std::move(task), name.empty() ? "spawned task" : std::move(name));
}

}  // namespace spur
