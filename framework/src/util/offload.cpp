#include <spur/offload.hpp>

#include "util/net.hpp"

#include <algorithm>
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

    void set_threads(unsigned threads) {
        std::lock_guard lock(mutex_);
        if (!pool_) threads_ = threads;
    }

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
};

}  // namespace

namespace detail {
net::thread_pool::executor_type blocking_executor(net::execution_context& context) {
    return net::use_service<BlockingPool>(context).executor();
}
}  // namespace detail

void set_blocking_threads(net::execution_context& context, unsigned threads) {
    net::use_service<BlockingPool>(context).set_threads(threads);
}

}  // namespace spur
