#include "util/http_date.hpp"

#include <ctime>
#include <string>

namespace spur::detail {

std::string format_http_date(std::chrono::system_clock::time_point t) {
    std::time_t secs = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return std::string(buf, n);
}

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) {
    if (text.size() != 29 || text.substr(25) != " GMT") return std::nullopt;
    std::string copy(text);
    std::tm tm{};
    const char* end = strptime(copy.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end != '\0') return std::nullopt;
    return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string_view current_http_date() {
    // Per-thread cache: I/O threads never share it, so no lock is needed.
    thread_local std::time_t cached_second = 0;
    thread_local std::string cached;
    std::time_t now = std::time(nullptr);
    if (now != cached_second) {
        cached_second = now;
        cached = format_http_date(std::chrono::system_clock::from_time_t(now));
    }
    return cached;
}

}  // namespace spur::detail
