#pragma once
// spur::mysql::Config — where and how to connect, from a struct or a mysql:// URL.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace spur::mysql {

/// Connection and pool settings. Defaults suit a small service.
struct Config {
    std::string host = "localhost";  ///< "localhost" with `socket` uses the unix socket
    unsigned short port = 3306;
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
    std::chrono::milliseconds validate_after{1000};    ///< ping a connection idle longer than this before handing it out
    std::size_t statement_cache = 64;                  ///< prepared statements kept per connection
};

/// Parses `mysql://user:pass@host:port/db?socket=/path&pool_max=16&pool_min=2&acquire_timeout_ms=…`
/// (user, password and database percent-decoded). Throws std::invalid_argument on a malformed URL
/// or an unknown parameter.
Config parse_url(std::string_view url);

}  // namespace spur::mysql
