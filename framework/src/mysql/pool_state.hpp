#pragma once
// detail::PoolState — what a Pool shares with its leases and its background drains, and the
// files that work on it: pool_lease.cpp (acquire and release: idle connections, waiters and
// slots, validation and expiry), pool_hosts.cpp (which host a new connection goes to, and
// opening it), pool_drain.cpp (connections a cancelled caller left mid-statement); pool.cpp
// is the Pool's API over it.

#include <spur/mysql/pool.hpp>

#include "mysql/kill.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

namespace spur::mysql {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

namespace detail {

// A coroutine waiting in acquire(). Whoever settles it (under the pool mutex) hands it either a
// connection or the right to open one, then cancels its timer on its own executor.
struct Waiter {
    explicit Waiter(net::any_io_executor ex) : timer(ex) {}
    net::steady_timer timer;
    std::unique_ptr<Connection> connection;
    bool may_open = false;
    bool settled = false;
};

struct PoolState : std::enable_shared_from_this<PoolState> {
    explicit PoolState(Config c)
        : config(std::move(c)), hosts(hosts_of(config)), down_until(hosts.size()),
          kills(std::make_shared<KillQueue>(config, hosts)) {}

    Config config;
    const std::vector<Host> hosts;
    std::vector<Clock::time_point> down_until;  // per host: tried last until then (mutex held)
    std::size_t turn = 0;                       // HostOrder::round_robin's next first host
    mutable std::mutex mutex;  // held only for bookkeeping, never across I/O
    std::deque<std::unique_ptr<Connection>> idle;  // back = most recently returned
    std::size_t open = 0;                         // idle + leased + being opened
    // Weak: a waiter whose coroutine died (its io_context destroyed mid-wait) leaves nothing here
    // that would outlive that io_context.
    std::deque<std::weak_ptr<Waiter>> waiters;
    bool closed = false;

    const std::shared_ptr<KillQueue> kills;  // KILL QUERY through one admin connection per host
    std::size_t draining = 0;                // connections being drained (in `open`, not idle)
    std::uint64_t abandoned = 0, abandoned_closed = 0;

    // Closes at once: COM_QUIT is a few bytes on a socket, and this is never the hot path
    // (broken, mid-transaction or expired connections only).
    static void close_later(std::unique_ptr<Connection> c) { c.reset(); }

    // Lease and return (pool_lease.cpp).
    Task<PooledConnection> acquire();
    void release(std::unique_ptr<Connection> c, bool used = true);
    void discard(std::unique_ptr<Connection> c);
    void withdraw(Waiter& waiter);
    void give_back_slot();
    void offer_slot_locked();
    std::shared_ptr<Waiter> pop_waiter_locked();
    static void wake(const std::shared_ptr<Waiter>& w);
    std::vector<std::unique_ptr<Connection>> expire_locked();
    std::vector<std::unique_ptr<Connection>> shut();

    // Where new connections go (pool_hosts.cpp).
    std::vector<Host> connect_order();
    void host_failed(const Host& host);
    Task<std::unique_ptr<Connection>> open_connection();

    // Connections a cancelled caller left mid-statement (pool_drain.cpp).
    struct Draining;
    void drain_later(std::unique_ptr<Connection> c);
    static Task<> drain(Draining d);
    void drained(std::unique_ptr<Connection> c);
};

}  // namespace detail

}  // namespace spur::mysql
