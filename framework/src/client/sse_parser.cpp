#include "client/sse_parser.hpp"

#include <spur/http_client.hpp>

#include <algorithm>
#include <charconv>

namespace spur::client {

std::optional<Event> SseParser::line(std::string_view line) {
    if (first_) {
        first_ = false;
        if (line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);  // a byte order mark may lead the stream
    }
    if (line.empty()) {
        size_ = 0;
        if (!has_data_) {
            pending_ = Event{};
            return std::nullopt;
        }
        has_data_ = false;
        Event done = std::move(pending_);
        pending_ = Event{};
        done.data.pop_back();  // the LF every data: line added
        done.id = last_id_;
        return done;
    }
    size_ += line.size() + 1;
    if (size_ > max_)
        throw HttpClientError(HttpClientError::Kind::too_large,
                              "a server-sent event is longer than HttpClientOptions::max_event_bytes");
    if (line.front() == ':') return std::nullopt;  // a comment (keep-alive)
    const auto colon = line.find(':');
    const auto field = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
    if (value.starts_with(' ')) value.remove_prefix(1);
    if (field == "data") {
        pending_.data.append(value).push_back('\n');
        has_data_ = true;
    } else if (field == "event") {
        pending_.event.assign(value);
    } else if (field == "id") {
        if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
    } else if (field == "retry") {
        unsigned long ms = 0;
        const auto* end = value.data() + value.size();
        const auto [ptr, ec] = std::from_chars(value.data(), end, ms);
        const bool digits = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
        // Past what a millisecond count holds it would wrap negative: a year is plenty.
        constexpr unsigned long year_ms = 365UL * 24 * 3600 * 1000;
        if (digits && ptr == end) {
            if (ec == std::errc::result_out_of_range || (ec == std::errc{} && ms > year_ms)) ms = year_ms;
            if (ec == std::errc{} || ec == std::errc::result_out_of_range)
                pending_.retry = std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(ms));
        }
    }
    // Any other field is ignored, as the standard says.
    return std::nullopt;
}

}  // namespace spur::client
