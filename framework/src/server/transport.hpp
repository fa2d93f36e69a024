#pragma once
// A connection's byte stream — plain TCP or TLS — behind one small interface, so that the
// connection and the writer are compiled once rather than once per stream type (Beast's
// TLS and WebSocket templates made that one file the slowest of the build, twice over).

#include "util/net.hpp"

#include <spur/log.hpp>
#include <spur/request.hpp>
#include <spur/response.hpp>
#include <spur/websocket.hpp>

#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <memory>
#include <span>

namespace spur::detail {

class WsSession;

/// Reads, writes and closes one connection's stream. Deadlines are the caller's: set them
/// with expires_after() before a read or write. Errors are reported, never thrown.
class Transport {
public:
    Transport(beast::tcp_stream& tcp, bool secure) noexcept : tcp_(tcp), secure_(secure) {}
    virtual ~Transport() = default;

    /// The TCP stream underneath: the socket, the peer address, the executor.
    beast::tcp_stream& tcp() noexcept { return tcp_; }
    /// Reads and writes that wait from now on must end within `allowance`, or the connection
    /// is closed and they report beast::error::timeout (Beast's tcp_stream semantics: the
    /// deadline binds only while an operation waits).
    virtual void expires_after(std::chrono::steady_clock::duration allowance) { tcp_.expires_after(allowance); }
    /// No deadline (the WebSocket and HTTP/2 layers keep their own).
    virtual void expires_never() { tcp_.expires_never(); }
    /// Whether the stream is encrypted (TLS).
    bool secure() const noexcept { return secure_; }
    /// The minimum rate (bytes/s; 0 = none) write() holds a client to.
    void min_write_rate(std::size_t rate) noexcept { min_rate_ = rate; }

    /// Reads at least one byte into `buffer`; eof, reset and timeout come back in `ec`.
    virtual Task<std::size_t> read_some(net::mutable_buffer buffer, boost::system::error_code& ec) = 0;
    /// read_some() for the next request on a kept-alive connection, started after a turn of
    /// the event loop. The answer just left, so the request cannot be here yet: reading now
    /// would be a receive that finds nothing (epoll's Asio tries every read at once), while
    /// after the turn it likely is there. io_uring's reads wait in the kernel: no turn there.
    virtual Task<std::size_t> read_next(net::mutable_buffer buffer, boost::system::error_code& ec);
    /// Writes every byte of `buffers` (a gathered write of at most 8 buffers); returns the
    /// bytes written. What the socket takes at once goes out without waiting; the rest must
    /// keep min_write_rate() with `allowance` to spare (Pace), or the connection is closed
    /// and `ec` says timeout. With `allowance` == `unbounded` no deadline is set: the caller
    /// bounds the write itself (HTTP/2, whose reader waits on the same stream: Beast's
    /// deadline set for a write also binds a read started before the next write).
    Task<std::size_t> write(std::span<const net::const_buffer> buffers, boost::system::error_code& ec,
                            std::chrono::milliseconds allowance);
    static constexpr std::chrono::milliseconds unbounded = std::chrono::milliseconds::max();
    /// Writes what the socket takes at once, without waiting, and returns how much that was
    /// (0 where the stream cannot, as with TLS); a failure comes back in `ec`.
    virtual std::size_t write_now(std::span<const net::const_buffer>, boost::system::error_code&) { return 0; }
    /// Ends the connection politely within `linger`: TLS sends close_notify; plain TCP
    /// half-closes and reads what the peer still sends, so that unread request bytes do not
    /// make the kernel answer with RST and destroy the response before the client reads it.
    virtual Task<> close_gracefully(std::chrono::milliseconds linger) = 0;
    /// Answers a WebSocket upgrade with 101 (carrying `res`'s headers) and returns the
    /// session that now owns the stream, or nullptr if the handshake failed.
    virtual Task<std::shared_ptr<WsSession>> accept_websocket(const Request::Message& request, const Response& res,
                                                              const WebSocketOptions& options, const LogSink& log) = 0;

protected:
    /// Writes at least one byte of `buffers`, under the deadline set on tcp().
    virtual Task<std::size_t> write_some(std::span<const net::const_buffer> buffers, boost::system::error_code& ec) = 0;

private:
    beast::tcp_stream& tcp_;
    bool secure_;
    std::size_t min_rate_ = 0;
};

}  // namespace spur::detail
