#pragma once
// spur::mysql::Connection — one server connection driven by Connector/C's non-blocking API.

#include <spur/mysql/config.hpp>
#include <spur/mysql/result.hpp>
#include <spur/mysql/rows.hpp>
#include <spur/mysql/value.hpp>
#include <spur/task.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace spur::mysql {

namespace detail { struct PoolState; }

/// A connection whose every round trip suspends the calling coroutine instead of blocking
/// its thread. Usually leased from a Pool. One coroutine at a time; not thread-safe. It holds
/// no Asio object between operations (but the executor of an abandoned() one, until drained),
/// so it may outlive any io_context it ran on.
/// Sessions use utf8mb4 and the UTC time zone.
class Connection {
public:
    /// Connects from the current coroutine's executor to the first of hosts_of(config) that
    /// answers (with several hosts, a Galera node whose wsrep_ready is OFF counts as not
    /// answering). Throws Error: the host's own, or, when several all fail, one naming each.
    static Task<std::unique_ptr<Connection>> connect(const Config& config);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Runs `sql` as a prepared statement (cached per connection) with `args` bound to its
    /// `?` placeholders — never spliced into the SQL. Throws Error.
    template <class... Args>
    Task<Result> execute(std::string_view sql, Args&&... args) {
        return execute_values(sql, std::vector<Value>{Value(std::forward<Args>(args))...});
    }
    Task<Result> execute_values(std::string_view sql, std::vector<Value> params);

    /// execute(sql, args...) with its rows read into Ts, described structs whose members take
    /// the columns of their names (rows_as in <spur/mysql/rows.hpp>). Throws Error: the
    /// statement's, or a missing, extra or mistyped column.
    template <class T, class... Args>
    Task<std::vector<T>> query_as(std::string_view sql, Args&&... args) {
        return detail::await_rows<T>(execute(sql, std::forward<Args>(args)...));
    }
    /// The only row of execute(sql, args...) as a T, or nullopt for none (one_as). Throws Error
    /// as query_as does, and when the statement returns several rows.
    template <class T, class... Args>
    Task<std::optional<T>> query_one_as(std::string_view sql, Args&&... args) {
        return detail::await_one<T>(execute(sql, std::forward<Args>(args)...));
    }

    /// Runs SQL text without parameters. Several statements separated by ';' need
    /// Config::multi_statements (for migrations); returns the last statement's result. Throws Error.
    Task<Result> query(std::string_view sql);

    Task<> ping();
    Task<> begin();
    Task<> commit();
    Task<> rollback();
    /// Rolls back, and marks the connection broken if even that fails (it is then dropped).
    Task<> rollback_or_discard() noexcept;
    /// Closes politely (COM_QUIT); the destructor closes too, without waiting.
    Task<> close();

    /// Whether the connection must not be reused (lost, timed out, or interrupted mid-protocol).
    bool broken() const noexcept;
    /// Whether the server reports an open transaction.
    bool in_transaction() const noexcept;
    /// The server's id for this connection (for KILL, or logs).
    std::uint64_t thread_id() const noexcept;
    /// The host this connection went to (one of Config::hosts, or host:port).
    const Host& server() const noexcept;
    /// Whether a caller was cancelled mid-operation and left it running (in the client library
    /// and on the server). Such a connection counts as broken() — every operation on it throws
    /// Error — until a Pool has drained it in the background (see Pool); a bare Connection in
    /// this state can only be destroyed.
    bool abandoned() const noexcept;

    /// When the pool last handed this connection back (for validation and idle expiry).
    std::chrono::steady_clock::time_point idle_since;
    /// When it connected (for Config::max_lifetime).
    const std::chrono::steady_clock::time_point opened_at = std::chrono::steady_clock::now();

    struct Impl;

private:
    friend struct detail::PoolState;
    explicit Connection(std::unique_ptr<Impl> impl);
    static Task<std::unique_ptr<Connection>> connect_to(const Config& config, const Host& host, bool require_ready);
    // Tries `order` in turn (readiness checked when there are several); `failed` hears of each
    // host that did not answer.
    static Task<std::unique_ptr<Connection>> connect_any(const Config& config, std::vector<Host> order,
                                                         std::function<void(const Host&)> failed);
    // Finishes what a cancelled caller abandoned (abandoned()): the operation itself, then any
    // result it left unread (read and discarded) and an open transaction (rolled back). If the
    // operation still runs at `stop_at`, `stop()` is called once: it asks for a KILL QUERY on
    // the server (true), or cannot (false: the connection is then marked broken and drain
    // returns). Never throws: a failure marks the connection broken.
    Task<> drain(std::chrono::steady_clock::time_point stop_at, std::function<Task<bool>()> stop) noexcept;
    // The executor the abandoned operation ran on (the drain continues there).
    const boost::asio::any_io_executor& abandoned_on() const noexcept;
    // When the abandoned operation began (Config::drain_threshold counts from there).
    std::chrono::steady_clock::time_point abandoned_since() const noexcept;
    // How a statement the caller gave up on (query_timeout passed, or an error mid-protocol)
    // is stopped on the server: `stop(executor, server, thread id)` returns false when it
    // could not queue the KILL. Without one, a short-lived side connection sends it.
    using Stopper = std::function<bool(const boost::asio::any_io_executor&, const Host&, std::uint64_t)>;
    void stop_statements_with(Stopper stop);
    // Whether it broke because of its server (lost, killed, not ready), not because the caller
    // gave up on it: then the pool stops preferring that server for a while.
    bool server_failed() const noexcept;
    std::unique_ptr<Impl> impl_;
};

}  // namespace spur::mysql
