#include "mysql/pool_state.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <functional>

namespace spur::mysql::detail {

// The hosts in the order a new connection tries them: by host_order, those that failed
// within host_cooldown last.
std::vector<Host> PoolState::connect_order() {
    std::lock_guard lock(mutex);
    const std::size_t n = hosts.size();
    const std::size_t first = config.host_order == HostOrder::round_robin ? turn++ % n : 0;
    const auto now = Clock::now();
    std::vector<Host> order, later;
    for (std::size_t k = 0; k < n; ++k) {
        const std::size_t i = (first + k) % n;
        (down_until[i] > now ? later : order).push_back(hosts[i]);
    }
    order.insert(order.end(), later.begin(), later.end());
    return order;
}

// A host failed: try it last for a while, and drop its idle connections (a lost server takes
// them all; better to notice now than on a caller's next statement).
void PoolState::host_failed(const Host& host) {
    if (hosts.size() < 2) return;
    std::vector<std::unique_ptr<Connection>> dropped;
    {
        std::lock_guard lock(mutex);
        for (std::size_t i = 0; i < hosts.size(); ++i)
            if (hosts[i] == host) down_until[i] = Clock::now() + config.host_cooldown;
        for (auto it = idle.begin(); it != idle.end();) {
            if ((*it)->server() == host) {
                dropped.push_back(std::move(*it));
                it = idle.erase(it);
                --open;
            } else {
                ++it;
            }
        }
        for (std::size_t k = 0; k < dropped.size(); ++k) offer_slot_locked();
    }
    for (auto& c : dropped) close_later(std::move(c));
}

// Opens a connection for a slot already counted in `open`. The caller gives the slot back
// if this throws — around its own co_await, because Asio throws operation_aborted from a
// cancelled coroutine's co_await before the awaited coroutine has run at all: a try/catch
// in here would never see that, and the slot would leak (clients leaving mid-request used
// up a pool of 10 this way within seconds).
Task<std::unique_ptr<Connection>> PoolState::open_connection() {
    // Named, not built inside the co_await: GCC 12 would destroy the closure twice.
    std::function<void(const Host&)> failed = [self = shared_from_this()](const Host& h) { self->host_failed(h); };
    auto order = connect_order();
    auto c = co_await Connection::connect_any(config, std::move(order), std::move(failed));
    // Statements it gives up on (query_timeout) are stopped through the admin connection.
    c->stop_statements_with([kills = kills](const net::any_io_executor& executor, const Host& host, std::uint64_t id) {
        net::co_spawn(executor, KillQueue::send(kills, host, id), net::detached);
        return true;
    });
    co_return c;
}

}  // namespace spur::mysql::detail
