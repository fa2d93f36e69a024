#include <spur/mysql/pool.hpp>

#include <spur/mysql/error.hpp>

#include "mysql/pool_state.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <mutex>
#include <random>
#include <stdexcept>

namespace spur::mysql {

Pool::Pool(Config config) : state_(std::make_shared<detail::PoolState>(std::move(config))) {
    if (state_->config.pool_max == 0) throw std::invalid_argument("pool_max must be at least 1");
}

Pool::~Pool() {
    // Idle connections close here (a quick COM_QUIT each); leased ones when their lease ends.
    auto idle = state_->shut();
    idle.clear();
}

Task<PooledConnection> Pool::acquire() {
    auto state = state_;
    co_return co_await state->acquire();
}

Task<Result> Pool::execute_values(std::string_view sql, std::vector<Value> params) {
    auto lease = co_await acquire();
    co_return co_await lease->execute_values(sql, std::move(params));
}

Task<Result> Pool::query(std::string_view sql) {
    auto lease = co_await acquire();
    co_return co_await lease->query(sql);
}

namespace {
// Whether an idempotent statement may run again on a new connection: its server went away or
// is no Galera node ready for queries. The failed lease is gone by then (its host tried last).
bool run_again(const Error& e) { return e.connection_lost() || e.number() == 1047; }
}  // namespace

Task<Result> Pool::execute_values(Idempotent, std::string_view sql, std::vector<Value> params) {
    try {
        auto lease = co_await acquire();
        co_return co_await lease->execute_values(sql, params);
    } catch (const Error& e) {
        if (!run_again(e)) throw;
    }
    auto lease = co_await acquire();
    co_return co_await lease->execute_values(sql, std::move(params));
}

Task<Result> Pool::query(Idempotent, std::string_view sql) {
    try {
        auto lease = co_await acquire();
        co_return co_await lease->query(sql);
    } catch (const Error& e) {
        if (!run_again(e)) throw;
    }
    auto lease = co_await acquire();
    co_return co_await lease->query(sql);
}

unsigned Pool::transaction_attempts() const noexcept { return std::max(1u, state_->config.transaction_attempts); }

Task<> Pool::conflict_backoff(unsigned attempt) {
    // Jittered, so two transactions that just deadlocked do not collide again in step.
    std::minstd_rand random(std::random_device{}());
    const auto base = std::chrono::milliseconds(5) * (1u << std::min(attempt - 1, 6u));
    const auto pause = base + std::chrono::milliseconds(random() % (2 * base.count() + 1));
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, pause);
    co_await timer.async_wait(boost::asio::use_awaitable);
}

PoolStats Pool::stats() const {
    std::lock_guard lock(state_->mutex);
    std::size_t waiting = 0;
    for (const auto& w : state_->waiters) waiting += w.expired() ? 0 : 1;
    const auto& s = *state_;
    const auto k = s.kills->counts();
    return PoolStats{s.open,      s.idle.size(),      s.open - s.idle.size() - s.draining, waiting,   s.draining,
                     s.abandoned, s.abandoned_closed, k.sent,                              k.refused, k.connects};
}

Task<> Pool::close() {
    auto idle = state_->shut();
    for (auto& c : idle) co_await c->close();
}

}  // namespace spur::mysql
