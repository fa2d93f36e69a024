#pragma once
// Server-sent events read line by line, as the WHATWG HTML standard's EventSource reads them
// (section 9.2.6 "Interpreting an event stream"), within a size bound per event.

#include <spur/sse/event.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace spur::client {

class SseParser {
public:
    explicit SseParser(std::size_t max_event_bytes) noexcept : max_(max_event_bytes) {}

    // Takes one line without its CR, LF or CRLF. Returns the event a blank line completes (an
    // event with no data: line is dropped, as a browser drops it). Throws
    // HttpClientError(too_large) when the event being gathered passes the bound.
    std::optional<Event> line(std::string_view line);

private:
    std::size_t max_;
    std::size_t size_ = 0;
    bool first_ = true;
    bool has_data_ = false;
    Event pending_;
    std::string last_id_;  // kept across events, as EventSource keeps lastEventId
};

}  // namespace spur::client
