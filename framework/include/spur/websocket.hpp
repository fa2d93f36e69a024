#pragma once
// spur::WebSocket — one upgraded connection as seen by an `app.ws(...)` handler.

#include <spur/request.hpp>
#include <spur/router.hpp>
#include <spur/task.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace spur {

class Handler;
class WsRoom;
namespace detail { class WsSession; }

/// Close codes of RFC 6455 §7.4.1 that a server sends or receives.
enum class WsCloseCode : std::uint16_t {
    normal = 1000,
    going_away = 1001,  ///< the server is shutting down
    protocol_error = 1002,
    unsupported_data = 1003,
    invalid_payload = 1007,
    policy_violation = 1008,
    message_too_big = 1009,
    internal_error = 1011,
    try_again_later = 1013,
};

/// WebSocket settings, shared by every ws route of a server (ServerOptions::websocket).
struct WebSocketOptions {
    /// A larger incoming message closes the connection with 1009.
    std::size_t max_message_bytes = 1024 * 1024;
    /// With no frame from the client for half this time the server pings; with none for the
    /// whole time it closes the connection.
    std::chrono::milliseconds idle_timeout{60'000};
    /// Messages queued for a client that reads too slowly; beyond this, send() waits and
    /// messages posted by other connections (rooms) drop the client.
    std::size_t max_send_queue_bytes = 4 * 1024 * 1024;
};

/// One message from the client.
struct WsMessage {
    std::string data;
    bool binary = false;
};

/// A thread-safe handle to a WebSocket for code outside its handler (rooms, other
/// connections, timers on other threads). Holding one does not keep the connection open.
class WsPeer {
public:
    WsPeer() = default;
    /// Queues a text (or binary) message; does nothing if the connection has ended. If the
    /// client's queue is over WebSocketOptions::max_send_queue_bytes, it is disconnected.
    void post(std::string message, bool binary = false) const;
    /// Queues a close frame after the messages already queued.
    void close(WsCloseCode code = WsCloseCode::normal, std::string reason = {}) const;
    /// False once the connection has ended (or for a default-constructed handle).
    bool alive() const;
    /// Identity, for rooms.
    bool operator==(const WsPeer& other) const noexcept;

private:
    friend class WebSocket;
    friend class WsRoom;
    explicit WsPeer(std::weak_ptr<detail::WsSession> session) : session_(std::move(session)) {}
    void post_shared(std::shared_ptr<const std::string> message, bool binary) const;
    std::weak_ptr<detail::WsSession> session_;
};

/// The handler's side of an upgraded connection. Keep a receive() loop running: control
/// frames (ping, pong, close) are handled while a receive() is pending.
class WebSocket {
public:
    explicit WebSocket(std::shared_ptr<detail::WsSession> session, Request& request) noexcept
        : session_(std::move(session)), request_(request) {}

    /// The upgrade request: route params, headers, and locals set by middleware.
    Request& request() noexcept { return request_; }
    /// Shorthand for request().param(name).
    std::string_view param(std::string_view name) const { return request_.param(name); }

    /// The next message, or nullopt once the connection has closed (by either side, by the
    /// idle timeout, by an oversized message, or by server shutdown).
    Task<std::optional<WsMessage>> receive();
    /// Sends a text message (must be UTF-8). Waits while the client's queue is full; returns
    /// false if the connection has ended.
    Task<bool> send(std::string_view text);
    /// Sends a binary message; as send().
    Task<bool> send_binary(std::string_view data);
    /// Starts the closing handshake after queued messages; receive() then returns nullopt.
    void close(WsCloseCode code = WsCloseCode::normal, std::string reason = {});
    /// False once closing has begun or the connection is gone.
    bool is_open() const noexcept;
    /// The code of the close frame the client sent, if it sent one.
    std::optional<std::uint16_t> peer_close_code() const noexcept;
    /// A handle other threads and connections may use to send to this one.
    WsPeer peer() const { return WsPeer(session_); }

private:
    std::shared_ptr<detail::WsSession> session_;
    Request& request_;
};

}  // namespace spur
