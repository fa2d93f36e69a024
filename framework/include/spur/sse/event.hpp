#pragma once
// spur::Event — one server-sent event, as spur::sse() sends it and ClientStream::next_event() reads it.

#include <chrono>
#include <optional>
#include <string>

namespace spur {

/// One server-sent event. Empty fields are left out; `data` may span lines.
struct Event {
    std::string data{};
    std::string event{};  ///< the type the client listens for ("message" when empty)
    std::string id{};     ///< becomes the client's Last-Event-ID when it reconnects
    std::optional<std::chrono::milliseconds> retry{};  ///< the client's reconnection delay
};

}  // namespace spur
