#include "mysql/pool_state.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <exception>

namespace spur::mysql {

namespace detail {

void PoolState::wake(const std::shared_ptr<Waiter>& w) {
    net::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
}

// The first waiter still alive, removed from the queue (mutex held).
std::shared_ptr<Waiter> PoolState::pop_waiter_locked() {
    while (!waiters.empty()) {
        auto w = waiters.front().lock();
        waiters.pop_front();
        if (w) return w;
    }
    return nullptr;
}

// Called with the mutex held: a slot is free, so let the first waiter open a connection.
void PoolState::offer_slot_locked() {
    if (closed || open >= config.pool_max) return;
    auto w = pop_waiter_locked();
    if (!w) return;
    w->may_open = true;
    w->settled = true;
    ++open;
    wake(w);
}

void PoolState::discard(std::unique_ptr<Connection> c) {
    {
        std::lock_guard lock(mutex);
        --open;
        offer_slot_locked();
    }
    close_later(std::move(c));
}

// `used`: it was leased and used, so it counts as validated from now.
void PoolState::release(std::unique_ptr<Connection> c, bool used) {
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

// Idle connections above pool_min past idle_timeout, oldest first (mutex held).
std::vector<std::unique_ptr<Connection>> PoolState::expire_locked() {
    std::vector<std::unique_ptr<Connection>> out;
    const auto now = Clock::now();
    while (idle.size() > config.pool_min && now - idle.front()->idle_since >= config.idle_timeout) {
        out.push_back(std::move(idle.front()));
        idle.pop_front();
        --open;
    }
    return out;
}

// A waiter that will not take what it is given: out of the queue, and a connection or slot
// already handed to it back to the pool.
void PoolState::withdraw(Waiter& waiter) {
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

void PoolState::give_back_slot() {
    std::lock_guard lock(mutex);
    --open;
    offer_slot_locked();
}

Task<PooledConnection> PoolState::acquire() {
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

std::vector<std::unique_ptr<Connection>> PoolState::shut() {
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

}  // namespace detail

PooledConnection::PooledConnection(std::shared_ptr<detail::PoolState> pool, std::unique_ptr<Connection> connection) noexcept
    : pool_(std::move(pool)), connection_(std::move(connection)) {}

PooledConnection::PooledConnection(PooledConnection&& other) noexcept
    : pool_(std::move(other.pool_)), connection_(std::move(other.connection_)) {}

PooledConnection::~PooledConnection() {
    if (connection_ && pool_) pool_->release(std::move(connection_));
}

}  // namespace spur::mysql
