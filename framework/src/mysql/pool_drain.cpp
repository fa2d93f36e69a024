#include "mysql/pool_state.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <functional>

namespace spur::mysql::detail {

// A connection being drained. Whatever ends the drain — its end, or its coroutine destroyed
// before or while it runs (its io_context gone) — the connection or its slot goes back: a
// parameter, because a guard declared in the body would not exist before the body starts.
struct PoolState::Draining {
    std::shared_ptr<PoolState> pool;
    std::unique_ptr<Connection> c;
    Draining(std::shared_ptr<PoolState> p, std::unique_ptr<Connection> conn) noexcept
        : pool(std::move(p)), c(std::move(conn)) {}
    Draining(Draining&&) noexcept = default;
    Draining& operator=(Draining&&) = delete;
    ~Draining() {
        if (pool && c) pool->drained(std::move(c));
    }
};

// A caller was cancelled mid-statement. Closing the connection would cost a new one (and a
// side connection for the KILL) per cancelled statement — 6,077 connections in 5 s of
// clients leaving /readyz; instead it finishes in the background, keeping its slot.
void PoolState::drain_later(std::unique_ptr<Connection> c) {
    {
        std::lock_guard lock(mutex);
        ++draining;
        ++abandoned;
    }
    auto executor = c->abandoned_on();
    // Not bound to any cancellation slot: nobody can cancel a drain.
    net::co_spawn(executor, drain(Draining(shared_from_this(), std::move(c))), net::detached);
}

Task<> PoolState::drain(Draining d) {
    const Host host = d.c->server();
    const std::uint64_t id = d.c->thread_id();
    // Named, not built inside the co_await: GCC 12 would destroy the closure twice.
    std::function<Task<bool>()> stop = [kills = d.pool->kills, host, id] { return KillQueue::send(kills, host, id); };
    co_await d.c->drain(d.c->abandoned_since() + d.pool->config.drain_threshold, std::move(stop));
}

void PoolState::drained(std::unique_ptr<Connection> c) {
    if (!c) return;
    const bool finished = !c->abandoned();
    {
        std::lock_guard lock(mutex);
        --draining;
        if (!finished || c->broken()) ++abandoned_closed;
    }
    if (finished) release(std::move(c));
    else discard(std::move(c));
}

}  // namespace spur::mysql::detail
