#pragma once
// spur::WsRoom — a set of WebSocket peers to broadcast to, safe from any I/O thread.

#include <spur/websocket.hpp>

#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

namespace spur {

/// Members are held weakly: a connection that ends drops out on the next broadcast even if
/// its handler never called leave(). The lock is the room's own, held only to copy the list.
class WsRoom {
public:
    /// Adds a peer (no effect if already a member).
    void join(const WsPeer& peer);
    /// Removes a peer.
    void leave(const WsPeer& peer);
    /// Posts `message` to every live member except `except`; returns how many it was posted to.
    std::size_t broadcast(const std::string& message, const WsPeer& except = {}, bool binary = false);
    /// Live members.
    std::size_t size() const;

private:
    mutable std::mutex mutex_;
    std::vector<WsPeer> members_;
};

}  // namespace spur
