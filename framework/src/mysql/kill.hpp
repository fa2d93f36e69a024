#pragma once
// Stopping a statement on the server with KILL QUERY (kill.cpp): for a bare Connection from a
// short-lived side connection (stop_on_server); for a pool through detail::KillQueue — one
// long-lived admin connection per host, one KILL at a time, with a bounded queue.

#include <spur/mysql/connection.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

namespace spur::mysql::detail {

// Stops the statement running on server thread `id` from a connection of its own: KILL QUERY
// (a user may kill their own statements without extra privileges). Best effort, in the
// background: when it cannot connect, the server is unreachable anyway, and max_statement_time
// still bounds the statement; the caller already has the error that made us give up.
void stop_on_server(const boost::asio::any_io_executor& executor, Config config, std::uint64_t id);

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
    static Task<bool> send(std::shared_ptr<KillQueue> self, Host host, std::uint64_t id);

    Counts counts() const;

    // The admin connections not in use, to close with the pool.
    std::vector<std::unique_ptr<Connection>> shut();

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
    struct Turn;

    void pass(Admin& admin);

    const Config config_;
    const std::vector<Host> hosts_;
    mutable std::mutex mutex_;
    std::vector<Admin> admins_;  // per host, as indexed in hosts_
    Counts counts_;
};

}  // namespace spur::mysql::detail
