#pragma once
// spur::mysql::detail::KillQueue — stops statements a pool gave up on with KILL QUERY, through
// one long-lived admin connection per host, one KILL at a time, with a bounded queue. Private to
// pool.cpp (kept in a header of its own only because a new .cpp would need framework/CMakeLists.txt).

#include <spur/mysql/connection.hpp>
#include <spur/mysql/error.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

namespace spur::mysql::detail {

class KillQueue {
public:
    struct Counts {
        std::uint64_t sent = 0, refused = 0, connects = 0;
    };

    KillQueue(Config config, std::vector<Host> hosts)
        : config_(std::move(config)), hosts_(std::move(hosts)), admins_(hosts_.size()) {}

    // Sends KILL QUERY `id` to `host`: true once the server has it (or the thread is gone
    // already). False, counted in Counts::refused, when Config::kill_queue KILLs wait for that
    // host already, the wait passes query_timeout, or the KILL fails. Static, so that the queue
    // outlives a detached call even if its pool is destroyed meanwhile.
    static Task<bool> send(std::shared_ptr<KillQueue> self, Host host, std::uint64_t id) {
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

    Counts counts() const {
        std::lock_guard lock(mutex_);
        return counts_;
    }

    // The admin connections not in use, to close with the pool.
    std::vector<std::unique_ptr<Connection>> shut() {
        std::vector<std::unique_ptr<Connection>> out;
        std::lock_guard lock(mutex_);
        for (auto& admin : admins_)
            if (!admin.busy && admin.connection) out.push_back(std::move(admin.connection));
        return out;
    }

private:
    // A KILL waiting for the admin connection; whoever passes it on settles it (mutex held) and
    // cancels its timer on its own executor.
    struct Waiter {
        explicit Waiter(boost::asio::any_io_executor ex) : timer(std::move(ex)) {}
        boost::asio::steady_timer timer;
        bool settled = false;
    };
    struct Admin {
        std::unique_ptr<Connection> connection;   // opened on the first KILL, then kept
        bool busy = false;                        // a KILL is being sent; only its sender touches `connection`
        std::deque<std::weak_ptr<Waiter>> queue;  // KILLs waiting: at most Config::kill_queue
    };
    // Passes the admin connection on from the moment it is handed over — also if the coroutine
    // holding it dies (its io_context destroyed) while waiting or sending.
    struct Turn {
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

    void pass(Admin& admin) {
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

    const Config config_;
    const std::vector<Host> hosts_;
    mutable std::mutex mutex_;
    std::vector<Admin> admins_;  // per host, as indexed in hosts_
    Counts counts_;
};

}  // namespace spur::mysql::detail
