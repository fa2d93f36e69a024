#include <spur/offload.hpp>

#include <spur/http_error.hpp>

#include "util/net.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

namespace spur {

namespace {

// One blocking pool per execution context, held as an Asio service: no global state, and
// it dies with its io_context (queued work is dropped, threads are joined).
class BlockingPool : public net::execution_context::service {
public:
    using key_type = BlockingPool;
    static inline net::execution_context::id id;

    explicit BlockingPool(net::execution_context& context) : net::execution_context::service(context) {}

    // From now on this context's jobs go to `owner`'s pool.
    void delegate_to(BlockingPool& owner) { delegate_ = &owner; }
    BlockingPool& target() { return delegate_ ? *delegate_ : *this; }

    void set_threads(unsigned threads) {
        std::lock_guard lock(mutex_);
        if (!pool_) threads_ = threads;
    }

    void set_queue_limit(std::size_t limit) { limit_.store(limit, std::memory_order_relaxed); }

    // Counts one job in, or refuses it once `limit_` jobs are queued or running.
    bool enter() {
        const std::size_t limit = limit_.load(std::memory_order_relaxed);
        const std::size_t before = pending_.fetch_add(1, std::memory_order_relaxed);
        if (limit != 0 && before >= limit) {
            pending_.fetch_sub(1, std::memory_order_relaxed);
            return false;
        }
        return true;
    }
    void leave() { pending_.fetch_sub(1, std::memory_order_relaxed); }

    net::thread_pool::executor_type executor() {
        std::call_once(started_, [this] {
            std::lock_guard lock(mutex_);
            unsigned n = threads_ ? threads_ : std::max(2u, std::thread::hardware_concurrency());
            pool_.emplace(n);
        });
        return pool_->get_executor();
    }

private:
    void shutdown() override {
        if (pool_) {
            pool_->stop();
            pool_->join();
        }
    }

    std::mutex mutex_;
    std::once_flag started_;
    unsigned threads_ = 0;
    std::optional<net::thread_pool> pool_;
    std::atomic<std::size_t> pending_{0};
    std::atomic<std::size_t> limit_{0};
    BlockingPool* delegate_ = nullptr;
};

}  // namespace

namespace detail {
net::thread_pool::executor_type blocking_executor(net::execution_context& context) {
    return net::use_service<BlockingPool>(context).target().executor();
}

BlockingSlot::BlockingSlot(net::execution_context& context) : context_(context) {
    if (!net::use_service<BlockingPool>(context).target().enter())
        throw HttpError(503, "overloaded", "The server is busy, try again shortly");
}

BlockingSlot::~BlockingSlot() { net::use_service<BlockingPool>(context_).target().leave(); }

WorkClassSlot::WorkClassSlot(WorkClass& work) : work_(work) {
    if (!work.enter()) throw HttpError(503, "overloaded", "The server is busy, try again shortly");
}

void share_blocking_pool(net::execution_context& owner, net::execution_context& user) {
    net::use_service<BlockingPool>(user).delegate_to(net::use_service<BlockingPool>(owner));
}
}  // namespace detail

void set_blocking_threads(net::execution_context& context, unsigned threads) {
    net::use_service<BlockingPool>(context).target().set_threads(threads);
}

void set_blocking_queue_limit(net::execution_context& context, std::size_t limit) {
    net::use_service<BlockingPool>(context).target().set_queue_limit(limit);
}

}  // namespace spur
