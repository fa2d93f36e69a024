#include "mysql/kill.hpp"

#include <spur/mysql/error.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <exception>

namespace spur::mysql::detail {

namespace {

Task<> kill_query(Config config, std::uint64_t id) {
    config.multi_statements = false;  // config.hosts is the connection's own server only
    auto side = co_await Connection::connect(config);
    co_await side->query(fmt::format("KILL QUERY {}", id));
    co_await side->close();
}

}  // namespace

void stop_on_server(const boost::asio::any_io_executor& executor, Config config, std::uint64_t id) {
    boost::asio::co_spawn(executor, kill_query(std::move(config), id), [](std::exception_ptr) {});
}

// Passes the admin connection on from the moment it is handed over — also if the coroutine
// holding it dies (its io_context destroyed) while waiting or sending.
struct KillQueue::Turn {
    KillQueue& queue;
    Admin& admin;
    std::shared_ptr<Waiter> waiter;
    bool mine;
    ~Turn() {
        {
            std::lock_guard lock(queue.mutex_);
            if (!mine && waiter && !waiter->settled) {
                std::erase_if(admin.queue, [&](const std::weak_ptr<Waiter>& w) { return w.expired() || w.lock() == waiter; });
                return;
            }
        }
        if (mine || waiter) queue.pass(admin);
    }
};

Task<bool> KillQueue::send(std::shared_ptr<KillQueue> self, Host host, std::uint64_t id) {
    auto executor = co_await boost::asio::this_coro::executor;
    const auto i = static_cast<std::size_t>(std::find(self->hosts_.begin(), self->hosts_.end(), host) -
                                            self->hosts_.begin());
    if (i == self->hosts_.size()) co_return false;  // not one of the pool's hosts: cannot happen
    Admin& admin = self->admins_[i];
    Turn turn{*self, admin, nullptr, false};
    {
        std::lock_guard lock(self->mutex_);
        std::erase_if(admin.queue, [](const std::weak_ptr<Waiter>& w) { return w.expired(); });
        if (!admin.busy) {
            admin.busy = true;
            turn.mine = true;
        } else if (admin.queue.size() >= self->config_.kill_queue) {
            ++self->counts_.refused;
            co_return false;
        } else {
            turn.waiter = std::make_shared<Waiter>(executor);
            admin.queue.push_back(turn.waiter);
        }
    }
    if (!turn.mine) {
        turn.waiter->timer.expires_after(self->config_.query_timeout);
        boost::system::error_code ec;
        co_await turn.waiter->timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        std::lock_guard lock(self->mutex_);
        turn.mine = turn.waiter->settled;
        if (!turn.mine) {
            ++self->counts_.refused;
            turn.waiter.reset();
            std::erase_if(admin.queue, [](const std::weak_ptr<Waiter>& w) { return w.expired(); });
            co_return false;
        }
    }
    // The admin connection is ours (`busy`) until `turn` passes it on.
    std::unique_ptr<Connection> c;
    {
        std::lock_guard lock(self->mutex_);
        c = std::move(admin.connection);
    }
    bool sent = false;
    for (int attempt = 0; attempt < 2 && !sent; ++attempt) {
        const bool fresh = !c || c->broken();
        try {
            if (fresh) {
                c.reset();
                Config one = self->config_;
                one.hosts = {host};
                one.multi_statements = false;
                one.causal_reads = false;
                c = co_await Connection::connect(one);
                std::lock_guard lock(self->mutex_);
                ++self->counts_.connects;
            }
            co_await c->query(fmt::format("KILL QUERY {}", id));
            sent = true;
        } catch (const Error& e) {
            if (e.number() == 1094) sent = true;  // no such thread: nothing is left to stop
            else if (fresh || !c || !c->broken()) break;
            // else the kept connection had gone stale (wait_timeout): once more on a new one
        } catch (const std::exception&) {
            break;
        }
    }
    std::lock_guard lock(self->mutex_);
    if (c && !c->broken()) admin.connection = std::move(c);
    ++(sent ? self->counts_.sent : self->counts_.refused);
    co_return sent;
}

KillQueue::Counts KillQueue::counts() const {
    std::lock_guard lock(mutex_);
    return counts_;
}

std::vector<std::unique_ptr<Connection>> KillQueue::shut() {
    std::vector<std::unique_ptr<Connection>> out;
    std::lock_guard lock(mutex_);
    for (auto& admin : admins_)
        if (!admin.busy && admin.connection) out.push_back(std::move(admin.connection));
    return out;
}

void KillQueue::pass(Admin& admin) {
    std::lock_guard lock(mutex_);
    while (!admin.queue.empty()) {
        auto w = admin.queue.front().lock();
        admin.queue.pop_front();
        if (w) {
            w->settled = true;  // `busy` stays set: it is w's now
            boost::asio::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
            return;
        }
    }
    admin.busy = false;
}

}  // namespace spur::mysql::detail
