#include <spur/extension.hpp>

#include <spur/app.hpp>

#include "util/exception_message.hpp"

#include <boost/core/demangle.hpp>

#include <memory>

namespace spur {

Extensions::~Extensions() {
    // Newest first: an extension may refer to one added before it.
    for (Node* node = head_.load(std::memory_order_relaxed); node;) delete std::exchange(node, node->next);
}

Extension* Extensions::find(const std::type_info& type) const noexcept {
    for (Node* node = head_.load(std::memory_order_acquire); node; node = node->next)
        if (*node->type == type) return node->extension.get();
    return nullptr;
}

void Extensions::missing(const std::type_info& type) {
    throw std::logic_error("spur: the app has no " + boost::core::demangle(type.name()) +
                           " (set it up before serving, e.g. spur::views(app, ...))");
}

Extension& Extensions::add(const std::type_info& type, const std::function<std::unique_ptr<Extension>()>& make) {
    std::lock_guard lock(mutex_);
    if (auto* found = find(type)) return *found;  // another thread added it first
    auto node = std::make_unique<Node>(Node{&type, make(), head_.load(std::memory_order_relaxed)});
    Extension& extension = *node->extension;
    order_.push_back(&extension);
    head_.store(node.release(), std::memory_order_release);
    // Late: the events it missed, in their order.
    const State state = state_.load(std::memory_order_relaxed);
    if (state >= State::frozen && app_) extension.frozen(*app_);
    if (state >= State::started && executor_) extension.start(*executor_);
    if (state >= State::draining) extension.drain();
    if (state >= State::stopped) stop_one(extension, [] {});
    return extension;
}

void Extensions::freeze(const App& app) {
    std::lock_guard lock(mutex_);
    if (state_.load(std::memory_order_relaxed) >= State::frozen) return;
    app_ = &app;
    // Index, not iterator: a hook may add an extension, which then hears this step in add().
    state_.store(State::frozen, std::memory_order_release);
    try {
        for (std::size_t i = 0; i < order_.size(); ++i) order_[i]->frozen(app);
    } catch (...) {
        // Refused: the app is not serving, and the next attempt asks every extension again.
        state_.store(State::setup, std::memory_order_release);
        app_ = nullptr;
        throw;
    }
}

void Extensions::start(const boost::asio::any_io_executor& executor) {
    std::lock_guard lock(mutex_);
    if (state_.load(std::memory_order_relaxed) >= State::started) return;
    executor_ = executor;
    state_.store(State::started, std::memory_order_release);
    for (std::size_t i = 0, n = order_.size(); i < n; ++i) order_[i]->start(executor);
}

void Extensions::drain() noexcept {
    std::lock_guard lock(mutex_);
    if (state_.load(std::memory_order_relaxed) >= State::draining) return;
    state_.store(State::draining, std::memory_order_release);
    for (std::size_t i = 0, n = order_.size(); i < n; ++i) order_[i]->drain();
}

struct Extensions::StopWait {
    std::mutex mutex;
    bool finished = false;
    std::vector<std::function<void()>> waiters;
};

void Extensions::stop(std::function<void()> done) {
    drain();
    std::unique_lock lock(mutex_);
    if (state_.load(std::memory_order_relaxed) >= State::stopped) {
        // Stopping already: this caller hears `done` too, once that has finished.
        std::unique_lock wait_lock(stop_wait_->mutex);
        if (!stop_wait_->finished) {
            stop_wait_->waiters.push_back(std::move(done));
            return;
        }
        wait_lock.unlock();
        lock.unlock();
        done();
        return;
    }
    state_.store(State::stopped, std::memory_order_release);
    stop_wait_ = std::make_shared<StopWait>();
    stop_wait_->waiters.push_back(std::move(done));
    const std::vector<Extension*> stopping(order_);
    lock.unlock();
    // The waiters hear `done` once every extension has finished; the count holds one extra
    // until all were asked, so that an extension finishing at once cannot end it early.
    auto left = std::make_shared<std::atomic<std::size_t>>(stopping.size() + 1);
    auto count_down = [wait = stop_wait_, left] {
        if (left->fetch_sub(1, std::memory_order_acq_rel) != 1) return;
        std::unique_lock wait_lock(wait->mutex);
        wait->finished = true;
        auto waiters = std::move(wait->waiters);
        wait->waiters.clear();
        wait_lock.unlock();
        for (auto& waiter : waiters) waiter();
    };
    for (auto* extension : stopping) stop_one(*extension, count_down);
    count_down();
}

void Extensions::stop_one(Extension& extension, const std::function<void()>& finished) noexcept {
    // Each extension counts once, however often it calls its `done`, and one that throws
    // counts as finished: neither may hold up the others or the server's drain.
    auto called = std::make_shared<std::atomic<bool>>(false);
    auto once = [finished, called] {
        if (!called->exchange(true, std::memory_order_acq_rel)) finished();
    };
    try {
        extension.stop(once);
    } catch (...) {
        if (app_) {
            try {
                app_->log()(LogLevel::error, "an extension's stop() failed: " +
                                                 detail::exception_message(std::current_exception()));
            } catch (...) {  // a failing log sink must not stop the drain either
            }
        }
        once();
    }
}

}  // namespace spur
