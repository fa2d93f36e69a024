#include <spur/mysql/pool.hpp>

#include <spur/mysql/error.hpp>

#include "mysql/kill.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <random>
#include <deque>
#include <mutex>

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

    static void wake(const std::shared_ptr<Waiter>& w) {
        net::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
    }

    // Closes at once: COM_QUIT is a few bytes on a socket, and this is never the hot path
    // (broken, mid-transaction or expired connections only).
    static void close_later(std::unique_ptr<Connection> c) { c.reset(); }

    // The first waiter still alive, removed from the queue (mutex held).
    std::shared_ptr<Waiter> pop_waiter_locked() {
        while (!waiters.empty()) {
            auto w = waiters.front().lock();
            waiters.pop_front();
            if (w) return w;
        }
        return nullptr;
    }

    // Called with the mutex held: a slot is free, so let the first waiter open a connection.
    void offer_slot_locked() {
        if (closed || open >= config.pool_max) return;
        auto w = pop_waiter_locked();
        if (!w) return;
        w->may_open = true;
        w->settled = true;
        ++open;
        wake(w);
    }

    void discard(std::unique_ptr<Connection> c) {
        {
            std::lock_guard lock(mutex);
            --open;
            offer_slot_locked();
        }
        close_later(std::move(c));
    }

    // The hosts in the order a new connection tries them: by host_order, those that failed
    // within host_cooldown last.
    std::vector<Host> connect_order() {
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
    void host_failed(const Host& host) {
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

    // `used`: it was leased and used, so it counts as validated from now.
    void release(std::unique_ptr<Connection> c, bool used = true) {
        if (c->abandoned()) {
            drain_later(std::move(c));
            return;
        }
        if (c->server_failed()) host_failed(c->server());
        // Never hand out a connection mid-transaction, with unread results, or broken; nor one
        // past its lifetime.
        const bool too_old = config.max_lifetime.count() > 0 && Clock::now() - c->opened_at >= config.max_lifetime;
        if (c->broken() || c->in_transaction() || too_old) {
            discard(std::move(c));
            return;
        }
        if (used) c->idle_since = Clock::now();
        std::unique_lock lock(mutex);
        if (closed) {
            --open;
            lock.unlock();
            close_later(std::move(c));
            return;
        }
        if (auto w = pop_waiter_locked()) {
            w->connection = std::move(c);
            w->settled = true;
            wake(w);
            return;
        }
        idle.push_back(std::move(c));
        auto expired = expire_locked();
        lock.unlock();
        for (auto& e : expired) close_later(std::move(e));
    }

    // A caller was cancelled mid-statement. Closing the connection would cost a new one (and a
    // side connection for the KILL) per cancelled statement — 6,077 connections in 5 s of
    // clients leaving /readyz; instead it finishes in the background, keeping its slot.
    void drain_later(std::unique_ptr<Connection> c) {
        {
            std::lock_guard lock(mutex);
            ++draining;
            ++abandoned;
        }
        auto executor = c->abandoned_on();
        // Not bound to any cancellation slot: nobody can cancel a drain.
        net::co_spawn(executor, drain(Draining(shared_from_this(), std::move(c))), net::detached);
    }

    // A connection being drained. Whatever ends the drain — its end, or its coroutine destroyed
    // before or while it runs (its io_context gone) — the connection or its slot goes back: a
    // parameter, because a guard declared in the body would not exist before the body starts.
    struct Draining {
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

    static Task<> drain(Draining d) {
        const Host host = d.c->server();
        const std::uint64_t id = d.c->thread_id();
        // Named, not built inside the co_await: GCC 12 would destroy the closure twice.
        std::function<Task<bool>()> stop = [kills = d.pool->kills, host, id] { return KillQueue::send(kills, host, id); };
        co_await d.c->drain(d.c->abandoned_since() + d.pool->config.drain_threshold, std::move(stop));
    }

    void drained(std::unique_ptr<Connection> c) {
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

    // Idle connections above pool_min past idle_timeout, oldest first (mutex held).
    std::vector<std::unique_ptr<Connection>> expire_locked() {
        std::vector<std::unique_ptr<Connection>> out;
        const auto now = Clock::now();
        while (idle.size() > config.pool_min && now - idle.front()->idle_since >= config.idle_timeout) {
            out.push_back(std::move(idle.front()));
            idle.pop_front();
            --open;
        }
        return out;
    }

    // Opens a connection for a slot already counted in `open`. The caller gives the slot back
    // if this throws — around its own co_await, because Asio throws operation_aborted from a
    // cancelled coroutine's co_await before the awaited coroutine has run at all: a try/catch
    // in here would never see that, and the slot would leak (clients leaving mid-request used
    // up a pool of 10 this way within seconds).
    Task<std::unique_ptr<Connection>> open_connection() {
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

    // A waiter that will not take what it is given: out of the queue, and a connection or slot
    // already handed to it back to the pool.
    void withdraw(Waiter& waiter) {
        std::unique_ptr<Connection> given;
        bool slot = false;
        {
            std::lock_guard lock(mutex);
            if (waiter.settled) {
                given = std::move(waiter.connection);
                slot = waiter.may_open;
            } else {
                std::erase_if(waiters, [&](const std::weak_ptr<Waiter>& w) { return w.lock().get() == &waiter; });
            }
        }
        if (given) release(std::move(given));
        if (slot) give_back_slot();
    }

    void give_back_slot() {
        std::lock_guard lock(mutex);
        --open;
        offer_slot_locked();
    }

    Task<PooledConnection> acquire() {
        auto self = shared_from_this();
        auto executor = co_await net::this_coro::executor;  // never co_await with the mutex held
        for (;;) {
            std::unique_ptr<Connection> c;
            bool open_new = false;
            std::shared_ptr<Waiter> waiter;
            {
                std::lock_guard lock(mutex);
                if (closed) throw Error(0, "08003", "the connection pool is closed");
                if (!idle.empty()) {
                    c = std::move(idle.back());
                    idle.pop_back();
                } else if (open < config.pool_max) {
                    ++open;
                    open_new = true;
                } else {
                    waiter = std::make_shared<Waiter>(executor);
                    waiters.push_back(waiter);
                }
            }
            if (c) {
                if (Clock::now() - c->idle_since >= config.validate_after) {
                    bool alive = true;
                    std::exception_ptr left;  // the caller was cancelled: no fault of the connection
                    try {
                        co_await c->ping();
                    } catch (const boost::system::system_error& e) {
                        if (e.code() == net::error::operation_aborted) left = std::current_exception();
                        else alive = false;
                    } catch (const std::exception&) {
                        alive = false;
                    }
                    if (left) {
                        // Drained first if the ping was under way; else back as it was, still
                        // to be validated.
                        release(std::move(c), false);
                        std::rethrow_exception(left);
                    }
                    if (!alive) {
                        discard(std::move(c));
                        continue;
                    }
                }
                co_return PooledConnection(self, std::move(c));
            }
            if (open_new) break;

            waiter->timer.expires_after(config.acquire_timeout);
            boost::system::error_code ec;
            try {
                co_await waiter->timer.async_wait(net::redirect_error(net::use_awaitable, ec));
            } catch (...) {
                // Cancelled before the wait began. Another thread may have settled this waiter
                // in between: what it was given goes back to the pool.
                withdraw(*waiter);
                throw;
            }
            bool may_open = false;
            {
                std::lock_guard lock(mutex);
                if (!waiter->settled) {
                    std::erase_if(waiters, [&](const std::weak_ptr<Waiter>& w) {
                        return !w.owner_before(waiter) && !waiter.owner_before(w);
                    });
                } else {
                    c = std::move(waiter->connection);
                    may_open = waiter->may_open;
                }
            }
            if (c) co_return PooledConnection(self, std::move(c));
            if (may_open) break;
            if (closed) throw Error(0, "08003", "the connection pool is closed");
            // Not settled, yet the wait ended early: the caller was cancelled (its client
            // left). That is no pool timeout, which the app would log as the database's fault.
            if (ec == net::error::operation_aborted) throw boost::system::system_error(ec);
            throw Error(0, "HYT00", "timed out waiting for a free database connection");
        }
        // A slot is ours (counted in `open`): open a connection in it, or give it back.
        std::unique_ptr<Connection> fresh;
        try {
            fresh = co_await open_connection();
        } catch (...) {
            give_back_slot();
            throw;
        }
        co_return PooledConnection(self, std::move(fresh));
    }

    std::vector<std::unique_ptr<Connection>> shut() {
        std::vector<std::unique_ptr<Connection>> out;
        std::lock_guard lock(mutex);
        closed = true;
        for (auto& c : kills->shut()) out.push_back(std::move(c));  // takes kills' lock inside ours: never the reverse
        for (auto& c : idle) out.push_back(std::move(c));
        open -= idle.size();
        idle.clear();
        while (auto w = pop_waiter_locked()) {
            w->settled = true;
            wake(w);
        }
        return out;
    }
};

}  // namespace detail

PooledConnection::PooledConnection(std::shared_ptr<detail::PoolState> pool, std::unique_ptr<Connection> connection) noexcept
    : pool_(std::move(pool)), connection_(std::move(connection)) {}

PooledConnection::PooledConnection(PooledConnection&& other) noexcept
    : pool_(std::move(other.pool_)), connection_(std::move(other.connection_)) {}

PooledConnection::~PooledConnection() {
    if (connection_ && pool_) pool_->release(std::move(connection_));
}

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
