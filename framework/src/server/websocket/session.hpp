#pragma once
// The transport-independent half of a WebSocket connection: the send queue, its single
// writer, backpressure, closing, and the handler's lifetime. All members are touched on
// the connection's executor only; other threads reach it through post().

#include "util/net.hpp"

#include <spur/log.hpp>
#include <spur/websocket.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include <deque>
#include <memory>
#include <optional>
#include <string>

namespace spur::detail {


class WsSession : public std::enable_shared_from_this<WsSession> {
public:
    WsSession(net::any_io_executor executor, const WebSocketOptions& options, const LogSink& log);
    virtual ~WsSession() = default;

    /// Runs `handler`, then closes (1000) if it did not, and waits until the writer is done.
    Task<> run(const WsHandler& handler, Request& request);

    Task<std::optional<WsMessage>> receive();
    Task<bool> send(std::string_view data, bool binary);
    void close(WsCloseCode code, std::string reason);
    bool is_open() const noexcept { return !closing_ && !ended_; }
    std::optional<std::uint16_t> peer_close_code() const noexcept { return peer_close_code_; }

    /// From any thread: queue a message or a close on the connection's executor.
    void post(std::shared_ptr<const std::string> message, bool binary);
    void post_close(WsCloseCode code, std::string reason);

protected:
    virtual Task<boost::system::error_code> read_message(std::string& out, bool& binary) = 0;
    virtual Task<boost::system::error_code> write_message(const std::string& data, bool binary) = 0;
    virtual Task<boost::system::error_code> write_close(WsCloseCode code, const std::string& reason) = 0;
    /// The close code the peer sent, 0 if none.
    virtual std::uint16_t received_close_code() const = 0;
    /// Closes the socket under the WebSocket: every pending operation fails at once.
    virtual void close_transport() = 0;

private:
    struct Outgoing {
        std::shared_ptr<const std::string> data;
        bool binary = false;
        bool is_close = false;
        WsCloseCode code = WsCloseCode::normal;
        std::string reason;
    };

    Task<> writer();
    Task<> wait();
    void notify();
    void enqueue(Outgoing item);
    void end();

    net::any_io_executor executor_;
    const WebSocketOptions& options_;
    const LogSink& log_;
    net::steady_timer signal_;  // a condition variable for coroutines: cancel() wakes every waiter
    std::deque<Outgoing> queue_;
    std::size_t queued_bytes_ = 0;
    bool closing_ = false;         // a close frame is queued or sent
    bool ended_ = false;           // the transport is finished: reads and writes are over
    bool writer_running_ = false;
    std::optional<std::uint16_t> peer_close_code_;
};

}  // namespace spur::detail
