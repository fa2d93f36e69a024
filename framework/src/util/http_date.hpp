#pragma once
// IMF-fixdate formatting for Date, Expires and Last-Modified headers.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace spur::detail {

/// "Sun, 06 Nov 1994 08:49:37 GMT" for `t`.
std::string format_http_date(std::chrono::system_clock::time_point t);

/// Parses an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"); nullopt for anything else.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text);

/// The current date, cached per thread and refreshed once a second (no lock on the hot path).
std::string_view current_http_date();

}  // namespace spur::detail
