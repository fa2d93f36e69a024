#pragma once
// The watch for a client that leaves while its request is handled.

#include "server/connection.hpp"

#include <memory>

namespace spur::detail {

/// While a handler runs nothing reads the socket, so a client that gives up would go
/// unnoticed until the write. Once the request is fully read, a wait for readability tells:
/// end of stream (or a reset) means the client left, and the request's coroutine is
/// cancelled (ConnectionState::cancel) unless its route opted out. Other bytes (a pipelined
/// request) end the watch.
class PeerWatch {
public:
    explicit PeerWatch(ConnectionState& state) noexcept : state_(state) {}

    /// Watches for the peer leaving while state.request is handled (once at a time).
    void arm() { arm(state_.shared_from_this()); }
    static void arm(std::shared_ptr<ConnectionState> state);
    /// The request is handled: stops the watch.
    void disarm() noexcept;

private:
    ConnectionState& state_;
};

}  // namespace spur::detail
