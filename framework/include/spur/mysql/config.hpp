#pragma once
// spur::mysql::Config — where and how to connect, from a struct or a mysql:// URL.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace spur::mysql {

/// One server of several (a Galera node, say).
struct Host {
    std::string host;             ///< "localhost" with Config::socket uses the unix socket
    unsigned short port = 3306;
    bool operator==(const Host&) const = default;
};

/// Which of several hosts a new connection goes to.
enum class HostOrder {
    /// The first host in the list that answers: every instance writes to one Galera node while
    /// it is up, so their transactions never conflict across nodes. The default.
    first_available,
    /// Each new connection starts at the next host in turn (spreads reads; cross-node write
    /// conflicts then surface as Error::transaction_conflict).
    round_robin,
};

/// Connection and pool settings. Defaults suit a small service.
struct Config {
    std::string host = "localhost";  ///< "localhost" with `socket` uses the unix socket
    unsigned short port = 3306;
    /// Several servers (a cluster): when not empty, it replaces host/port. A new connection
    /// tries them in `host_order`, skipping one that refuses, times out, or is a Galera node not
    /// ready for queries (wsrep_ready OFF); a host that failed is tried last for `host_cooldown`.
    std::vector<Host> hosts;
    HostOrder host_order = HostOrder::first_available;
    std::chrono::milliseconds host_cooldown{2000};
    /// Galera only: every read first waits until this node has applied all writes committed
    /// anywhere before it (wsrep_sync_wait = 1), so a row written through one node is found
    /// through any other. Costs a cluster round trip per read; without it, a read on another
    /// node than the write's may briefly miss it. (A MySQL server refuses the variable.)
    bool causal_reads = false;
    std::string user;
    std::string password;
    std::string database;
    std::string socket;              ///< unix socket path
    std::size_t pool_min = 1;        ///< connections kept open even when idle
    std::size_t pool_max = 10;
    std::chrono::milliseconds acquire_timeout{5000};   ///< waiting for a free connection
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds query_timeout{30000};    ///< per read/write on the socket; the connection is dropped after it
    std::chrono::milliseconds idle_timeout{300000};    ///< idle connections above pool_min are closed after this
    /// A connection older than this is closed when it is handed back (0: never), so that
    /// connections return to a preferred host that came back, and pick up server-side changes.
    std::chrono::milliseconds max_lifetime{1800000};
    std::chrono::milliseconds validate_after{1000};    ///< ping a connection idle longer than this before handing it out
    std::size_t statement_cache = 64;                  ///< prepared statements kept per connection
    /// Runs of one Pool::transaction body when it loses a conflict (Error::transaction_conflict):
    /// 3 means up to two retries, after 5–15 ms and 10–30 ms. 1 never retries.
    unsigned transaction_attempts = 3;
    /// The server stops any statement running longer than this (MariaDB's session variable
    /// max_statement_time; error 1969). 0 leaves the server's setting. Unlike query_timeout,
    /// which only gives up on the client side, this frees the server too.
    std::chrono::milliseconds max_statement_time{0};
    /// A statement whose caller is cancelled (its client left, a deadline won a race) keeps its
    /// connection: the pool lets it finish in the background, reads and drops its result, and
    /// only then counts the connection as free — no new connection per cancelled statement.
    /// One still running this long after it began is stopped with KILL QUERY, sent through one
    /// long-lived admin connection per host, and then drained the same way. 0: KILL at once.
    std::chrono::milliseconds drain_threshold{250};
    /// KILL QUERYs that may wait for a host's admin connection (one is sent at a time). Past
    /// that, an abandoned connection is closed instead (its statement then runs on, bounded by
    /// max_statement_time) and PoolStats::kills_refused counts it.
    std::size_t kill_queue = 16;
    /// Whether query() may run several ';'-separated statements in one call (migrations).
    /// Off by default: an injected "; DROP TABLE …" then fails as a syntax error.
    bool multi_statements = false;
};

/// The servers a connection may go to, in configured order: `hosts`, or else host:port.
std::vector<Host> hosts_of(const Config& config);

/// Parses `mysql://user:pass@host:port/db?socket=/path&pool_max=16&pool_min=2&acquire_timeout_ms=…`
/// or, for a cluster, `mysql://user:pass@h1:3306,h2:3307,h3/db?host_order=round_robin`
/// (also connect_timeout_ms, query_timeout_ms, idle_timeout_ms, max_lifetime_ms, validate_after_ms,
/// statement_cache, max_statement_time_ms, transaction_attempts, multi_statements=1,
/// drain_threshold_ms, kill_queue,
/// host_order=first_available|round_robin, host_cooldown_ms, causal_reads=1)
/// (user, password and database percent-decoded). Throws std::invalid_argument on a malformed URL
/// or an unknown parameter.
Config parse_url(std::string_view url);
/// As above for std::getenv's answer: a null `url` (the variable is not set) throws
/// std::invalid_argument too, instead of being undefined behaviour.
Config parse_url(const char* url);

}  // namespace spur::mysql
