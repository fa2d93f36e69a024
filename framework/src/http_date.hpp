#pragma once
// IMF-fixdate formatting for Date, Expires and Last-Modified headers.

#include <chrono>
#include <string>
#include <string_view>

namespace spur::detail {

/// "Sun, 06 Nov 1994 08:49:37 GMT" for `t`.
std::string format_http_date(std::chrono::system_clock::time_point t);

/// The current date, cached per thread and refreshed once a second (no lock on the hot path).
std::string_view current_http_date();

}  // namespace spur::detail
