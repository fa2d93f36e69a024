#pragma once
// spur::mysql::Pool — a bounded, thread-safe pool of non-blocking connections.

#include <spur/mysql/connection.hpp>
#include <spur/mysql/error.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace spur::mysql {

namespace detail { struct PoolState; }

/// Marks a statement as safe to run twice (a read, or a write of absolute values) for
/// Pool::execute and Pool::query: `co_await pool.execute(mysql::idempotent, "SELECT …", id)`.
struct Idempotent {
    explicit constexpr Idempotent() = default;
};
inline constexpr Idempotent idempotent{};

/// A connection leased from a Pool; it goes back (or is dropped, if broken or mid-transaction)
/// when the lease is destroyed.
class PooledConnection {
public:
    PooledConnection(std::shared_ptr<detail::PoolState> pool, std::unique_ptr<Connection> connection) noexcept;
    PooledConnection(PooledConnection&&) noexcept;
    PooledConnection& operator=(PooledConnection&&) = delete;
    ~PooledConnection();

    Connection* operator->() const noexcept { return connection_.get(); }
    Connection& operator*() const noexcept { return *connection_; }

private:
    std::shared_ptr<detail::PoolState> pool_;
    std::unique_ptr<Connection> connection_;
};

/// Counts for health checks and metrics.
struct PoolStats {
    std::size_t open;      ///< connections that exist (idle + in use + draining + being opened)
    std::size_t idle;
    std::size_t in_use;    ///< leased, or being opened
    std::size_t waiting;   ///< coroutines waiting for a connection
    std::size_t draining;  ///< finishing a statement whose caller was cancelled (not free yet)
    // Since the pool was made:
    std::uint64_t abandoned = 0;         ///< statements left running by a cancelled caller
    std::uint64_t abandoned_closed = 0;  ///< of those, connections closed instead of kept
    std::uint64_t kills = 0;             ///< KILL QUERYs sent through the admin connections
    std::uint64_t kills_refused = 0;     ///< KILL QUERYs not sent: queue full, or they failed
    std::uint64_t admin_connects = 0;    ///< admin connections opened (one per host, reopened if lost)
};

/// Hands out connections, opening up to pool_max and keeping pool_min; safe to share between
/// I/O threads. `co_await pool.execute("SELECT name FROM users WHERE id = ?", id)`.
/// It holds nothing from Asio between operations, so it may be declared before the App/Server
/// that uses it; idle connections above pool_min expire as the pool is used.
///
/// A caller cancelled mid-statement (its client left) gets operation_aborted at once; the
/// connection is not closed but *drained* by a background coroutine on the caller's executor:
/// the statement may end by itself until Config::drain_threshold (250 ms) after it began, is
/// then stopped with KILL QUERY, and its result is read and dropped (a transaction rolled
/// back) before the connection is free again. Bounds:
/// - connections: a draining connection keeps its pool slot (PoolStats::draining), so
///   cancellations hold at most pool_max connections, and open no new one;
/// - time: a drain holds its slot for drain_threshold, plus waiting for the admin connection
///   (at most query_timeout), plus sending the KILL (connect_timeout + query_timeout), plus the
///   statement's end after it (each socket wait at most query_timeout; past it the connection
///   is closed);
/// - kills: one admin connection per host, opened on the first KILL and kept (not counted in
///   pool_max), sends them one at a time; at most Config::kill_queue wait. When the queue is
///   full, or the KILL fails, the abandoned connection is closed instead (PoolStats counts both).
/// A statement that times out (query_timeout) or fails mid-protocol breaks its connection, and
/// is stopped through the same admin connection.
class Pool {
public:
    /// Opens nothing yet. Throws std::invalid_argument for pool_max == 0.
    explicit Pool(Config config);
    ~Pool();
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    /// Leases a connection: an idle one (pinged first if idle longer than validate_after), a new
    /// one while below pool_max, or the next one released. Throws Error (pool_timeout()) after
    /// acquire_timeout, or the connect error.
    Task<PooledConnection> acquire();

    /// Runs one prepared statement on a leased connection. Throws Error.
    template <class... Args>
    Task<Result> execute(std::string_view sql, Args&&... args) {
        return execute_values(sql, std::vector<Value>{Value(std::forward<Args>(args))...});
    }
    Task<Result> execute_values(std::string_view sql, std::vector<Value> params);
    /// Runs SQL text without parameters (see Connection::query).
    Task<Result> query(std::string_view sql);

    /// Like execute(sql, args...), for a statement marked idempotent: when its connection is
    /// lost (or its Galera node stops being ready) it runs once more, on a new connection — on
    /// another host when there are several. Without the mark, such a failure reaches the caller
    /// (Error::connection_lost()): a write may or may not have been applied, so it is never
    /// retried silently.
    template <class... Args>
    Task<Result> execute(Idempotent, std::string_view sql, Args&&... args) {
        return execute_values(idempotent, sql, std::vector<Value>{Value(std::forward<Args>(args))...});
    }
    Task<Result> execute_values(Idempotent, std::string_view sql, std::vector<Value> params);
    /// query(sql), run once more like execute(idempotent, ...).
    Task<Result> query(Idempotent, std::string_view sql);

    /// Connection::query_as and query_one_as on a leased connection: rows read into described
    /// structs by column name (<spur/mysql/rows.hpp>). Throws Error.
    template <class T, class... Args>
    Task<std::vector<T>> query_as(std::string_view sql, Args&&... args) {
        return detail::await_rows<T>(execute(sql, std::forward<Args>(args)...));
    }
    template <class T, class... Args>
    Task<std::optional<T>> query_one_as(std::string_view sql, Args&&... args) {
        return detail::await_one<T>(execute(sql, std::forward<Args>(args)...));
    }
    /// The same for a statement marked idempotent, run once more as execute(idempotent, ...) is.
    /// A row that does not fit T is no lost connection: that Error is never retried.
    template <class T, class... Args>
    Task<std::vector<T>> query_as(Idempotent, std::string_view sql, Args&&... args) {
        return detail::await_rows<T>(execute(idempotent, sql, std::forward<Args>(args)...));
    }
    template <class T, class... Args>
    Task<std::optional<T>> query_one_as(Idempotent, std::string_view sql, Args&&... args) {
        return detail::await_one<T>(execute(idempotent, sql, std::forward<Args>(args)...));
    }

    /// Runs `work(Connection&)` (returning Task<R>) inside a transaction: commits when it
    /// returns, rolls back when it throws (and rethrows). The connection goes back clean either way.
    /// A run that loses a conflict (Error::transaction_conflict: a deadlock, or a Galera
    /// certification conflict) is rolled back and `work` runs again, in a new transaction, up to
    /// Config::transaction_attempts runs in all with a growing, jittered pause between them —
    /// so `work` must be safe to run again: everything it does goes through the connection, or
    /// is undone or repeated harmlessly. Statements outside a transaction are never retried.
    template <class F>
    auto transaction(F&& work) -> std::invoke_result_t<F&, Connection&>;

    PoolStats stats() const;
    /// Config::transaction_attempts.
    unsigned transaction_attempts() const noexcept;
    /// The pause before run `attempt + 1` of a conflicting transaction (5–15 ms, doubling).
    static Task<> conflict_backoff(unsigned attempt);
    /// Closes idle connections; later acquires throw. Leased connections close when returned.
    Task<> close();

private:
    std::shared_ptr<detail::PoolState> state_;
};

template <class F>
auto Pool::transaction(F&& work) -> std::invoke_result_t<F&, Connection&> {
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
    // See spur::offload: GCC 12 destroys such temporaries in a co_await expression twice.
    static_assert(std::is_lvalue_reference_v<F> || std::is_trivially_destructible_v<std::remove_reference_t<F>>,
                  "GCC 12 bug: name a lambda with non-trivial by-value captures before passing it to "
                  "`co_await pool.transaction(...)`, or capture by reference.");
#endif
    using TaskType = std::invoke_result_t<F&, Connection&>;
    using R = typename TaskType::value_type;
    for (unsigned attempt = 1;; ++attempt) {
        auto lease = co_await acquire();
        co_await lease->begin();
        std::exception_ptr failure;
        bool retry = false;
        // The commit is inside: a Galera certification conflict surfaces there.
        try {
            if constexpr (std::is_void_v<R>) {
                co_await work(*lease);
                co_await lease->commit();
                co_return;
            } else {
                R result = co_await work(*lease);
                co_await lease->commit();
                co_return result;
            }
        } catch (const Error& e) {
            failure = std::current_exception();
            retry = e.transaction_conflict() && attempt < transaction_attempts();
        } catch (...) {
            failure = std::current_exception();
        }
        // A cancelled caller (its client left) cannot co_await: the rollback throws
        // operation_aborted before it runs. The failure stays `work`'s own, and the lease,
        // released mid-transaction, is discarded (or drained), which rolls it back.
        try {
            co_await lease->rollback_or_discard();
        } catch (...) {
        }
        if (!retry) std::rethrow_exception(failure);
        co_await conflict_backoff(attempt);
    }
}

}  // namespace spur::mysql
