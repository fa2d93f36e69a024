#pragma once
// A plain TCP connection's read and write deadline, without a timer operation per request.

#include "util/net.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>

namespace spur::detail {

/// What Beast's tcp_stream does with its expiry — a deadline in force only while a read or
/// write waits, and the socket closed when it passes — without arming and cancelling a timer
/// around every read: that was 15% of a keep-alive request's instructions. Setting the
/// deadline stores a time; one timer, armed when an operation starts and nothing earlier is
/// armed, checks it when it fires and re-arms itself for the deadline it finds then. A busy
/// connection's timer so fires about once per deadline's length, not once per request.
///
/// Used on the connection's own thread only (no locks). Shared with the timer's handler,
/// which may run after the transport that made it is gone.
class LazyDeadline : public std::enable_shared_from_this<LazyDeadline> {
public:
    using clock = std::chrono::steady_clock;

    /// Closes `socket` when an operation outlives the deadline (until detach()).
    LazyDeadline(const net::any_io_executor& executor, net::ip::tcp::socket& socket)
        : timer_(executor), socket_(&socket) {}

    /// Reads and writes that wait from now on end within `allowance` (clamped to "never").
    void expires_after(clock::duration allowance);
    /// No deadline: reads and writes may wait indefinitely.
    void expires_never() noexcept { deadline_ = clock::time_point::max(); }

    /// An operation under the deadline starts.
    void begin();
    /// It completed: `ec` becomes beast::error::timeout when the deadline closed the socket.
    void end(boost::system::error_code& ec) noexcept;

    /// The socket is gone: the timer stops and never touches it.
    void detach() noexcept;

private:
    void arm(clock::time_point at);
    void fired(const boost::system::error_code& ec, std::uint64_t generation);

    net::steady_timer timer_;
    net::ip::tcp::socket* socket_;
    clock::time_point deadline_ = clock::time_point::max();
    clock::time_point armed_ = clock::time_point::max();  // the timer's expiry while it waits
    std::uint64_t generation_ = 0;  // of the current wait: a replaced wait's handler is stale
    unsigned pending_ = 0;          // operations under the deadline
    bool expired_ = false;
};

}  // namespace spur::detail
