#pragma once
// spur::mysql::Error — a failure reported by the server or the client library.

#include <stdexcept>
#include <string>

namespace spur::mysql {

/// A MySQL/MariaDB error with its number and SQLSTATE, e.g. 1062 / "23000" for a duplicate key.
class Error : public std::runtime_error {
public:
    Error(unsigned number, std::string sqlstate, const std::string& message)
        : std::runtime_error(message), number_(number), sqlstate_(std::move(sqlstate)) {}

    /// The server or client error number (ER_* / CR_*); 0 for spur's own errors.
    unsigned number() const noexcept { return number_; }
    /// The five-character SQLSTATE ("HY000" when unknown).
    const std::string& sqlstate() const noexcept { return sqlstate_; }
    /// A duplicate key (1062) — map it to 409.
    bool duplicate_key() const noexcept { return number_ == 1062; }
    /// The connection died (server gone, lost, killed, timed out); the pool drops such connections.
    bool connection_lost() const noexcept;
    /// No connection became free within acquire_timeout.
    bool pool_timeout() const noexcept { return number_ == 0 && sqlstate_ == "HYT00"; }
    /// The server stopped the statement at its time limit (Config::max_statement_time:
    /// MariaDB's 1969; MySQL's max_execution_time, 3024).
    bool statement_timeout() const noexcept { return number_ == 1969 || number_ == 3024; }
    /// The transaction lost a conflict and was rolled back, so running it again may succeed: a
    /// deadlock (1213 — also how a Galera node reports a certification conflict with a write
    /// committed on another node) or a Galera node not ready for transactions (1047,
    /// "WSREP has not yet prepared node for application use").
    bool transaction_conflict() const noexcept { return number_ == 1213 || number_ == 1047; }

private:
    unsigned number_;
    std::string sqlstate_;
};

}  // namespace spur::mysql
