#include <spur/extension.hpp>

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
    if (state >= State::stopped) extension.stop([] {});
    return extension;
}

void Extensions::freeze(const App& app) {
    std::lock_guard lock(mutex_);
    if (state_.load(std::memory_order_relaxed) >= State::frozen) return;
    app_ = &app;
    // Index, not iterator: a hook may add an extension, which then hears this step in add().
    state_.store(State::frozen, std::memory_order_release);
    for (std::size_t i = 0, n = order_.size(); i < n; ++i) order_[i]->frozen(app);
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

void Extensions::stop(std::function<void()> done) {
    drain();
    std::unique_lock lock(mutex_);
    if (state_.load(std::memory_order_relaxed) >= State::stopped) {
        lock.unlock();
        done();
        return;
    }
    state_.store(State::stopped, std::memory_order_release);
    const std::vector<Extension*> stopping(order_);
    lock.unlock();
    // `done` once every extension has finished; the count holds one extra until all are asked.
    struct Countdown {
        Countdown(std::size_t n, std::function<void()> f) : left(n), done(std::move(f)) {}
        std::atomic<std::size_t> left;
        std::function<void()> done;
    };
    auto countdown = std::make_shared<Countdown>(stopping.size() + 1, std::move(done));
    auto count_down = [countdown] {
        if (countdown->left.fetch_sub(1, std::memory_order_acq_rel) == 1) countdown->done();
    };
    for (auto* extension : stopping) {
        // Each extension counts once, however often it calls its `done`.
        auto called = std::make_shared<std::atomic<bool>>(false);
        extension->stop([count_down, called] {
            if (!called->exchange(true, std::memory_order_acq_rel)) count_down();
        });
    }
    count_down();
}

}  // namespace spur
