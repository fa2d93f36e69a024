#pragma once
// What the HTTP client's tests share: an io_context per test (pooled connections belong to
// one), running a client coroutine on it to its end, and a port nobody listens on.

#include <spur/task.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <catch2/catch.hpp>

#include <exception>
#include <optional>

namespace spur::test {

// One io_context per test, as a server has: pooled connections belong to it.
inline boost::asio::io_context* current_io = nullptr;
struct Io {
    boost::asio::io_context io;
    boost::asio::io_context* outer = current_io;  // a helper's own Io inside a test's
    Io() { current_io = &io; }
    ~Io() { current_io = outer; }
};

// Runs `task` on the test's io_context until it ends; rethrows what it threw.
template <class T>
T run(Task<T> task) {
    REQUIRE(current_io);
    auto& io = *current_io;
    io.restart();
    std::exception_ptr error;
    std::optional<T> result;
    boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
        error = e;
        if (!e) result.emplace(std::move(value));
    });
    io.run();
    if (error) std::rethrow_exception(error);
    return std::move(*result);
}

inline void run(Task<> task) {
    REQUIRE(current_io);
    auto& io = *current_io;
    io.restart();
    std::exception_ptr error;
    boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e) { error = e; });
    io.run();
    if (error) std::rethrow_exception(error);
}

// A port nobody listens on.
inline unsigned short free_port() {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();
}

}  // namespace spur::test
