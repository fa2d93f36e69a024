#pragma once
// Helpers for the tests that talk to the private MariaDB started by the CTest fixture.

#include <spur/mysql.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <catch2/catch.hpp>

#include "support/database_url.hpp"

#include <cstdlib>
#include <string>
#include <string_view>
#include <stdexcept>
#include <thread>

namespace spur::test {

/// The test database URL (set by CTest from the fixture); fails loudly when missing.
inline mysql::Config test_db(std::size_t pool_max = 4) {
    auto c = mysql::parse_url(database_url());
    c.pool_max = pool_max;
    return c;
}

/// Runs `task` on `io` with `threads` threads until it finishes; rethrows its exception.
template <class T>
T run(boost::asio::io_context& io, Task<T> task, unsigned threads = 1) {
    std::exception_ptr failure;
    std::optional<T> result;
    boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
        failure = e;
        if (!e) result.emplace(std::move(value));
        io.stop();  // background work (connections closing) must not keep the test waiting
    });
    io.restart();
    std::vector<std::thread> extra;
    for (unsigned i = 1; i < threads; ++i) extra.emplace_back([&] { io.run(); });
    io.run();
    for (auto& t : extra) t.join();
    if (failure) std::rethrow_exception(failure);
    return std::move(*result);
}

inline void run(boost::asio::io_context& io, Task<> task, unsigned threads = 1) {
    run(io, [](Task<> t) -> Task<bool> { co_await std::move(t); co_return true; }(std::move(task)), threads);
}

/// Drops and creates the table `ddl` creates ("CREATE TABLE <name> (..."), so that each test
/// case starts from an empty table whatever ran before it.
inline Task<> reset_table(mysql::Pool& pool, std::string_view ddl) {
    auto name = std::string(ddl.substr(13, ddl.find(' ', 13) - 13));
    co_await pool.query("DROP TABLE IF EXISTS " + name);
    co_await pool.query(ddl);
}

}  // namespace spur::test
