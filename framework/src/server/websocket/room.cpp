#include <spur/websocket_room.hpp>

#include <algorithm>

namespace spur {

void WsRoom::join(const WsPeer& peer) {
    std::lock_guard lock(mutex_);
    if (std::find(members_.begin(), members_.end(), peer) == members_.end()) members_.push_back(peer);
}

void WsRoom::leave(const WsPeer& peer) {
    std::lock_guard lock(mutex_);
    std::erase_if(members_, [&](const WsPeer& p) { return p == peer || !p.alive(); });
}

std::size_t WsRoom::broadcast(const std::string& message, const WsPeer& except, bool binary) {
    std::vector<WsPeer> targets;
    {
        std::lock_guard lock(mutex_);
        std::erase_if(members_, [](const WsPeer& p) { return !p.alive(); });
        targets = members_;
    }
    // Posting happens outside the lock, and every member shares one copy of the message;
    // each post lands on the member's own executor, so one slow member never holds up the room.
    auto shared = std::make_shared<const std::string>(message);
    std::size_t sent = 0;
    for (const auto& peer : targets) {
        if (peer == except) continue;
        peer.post_shared(shared, binary);
        ++sent;
    }
    return sent;
}

std::size_t WsRoom::size() const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(std::count_if(members_.begin(), members_.end(), [](const WsPeer& p) { return p.alive(); }));
}

}  // namespace spur
