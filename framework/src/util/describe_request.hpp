#pragma once
// "GET /path" for log lines about one request; "-" for what a refused request lacks.

#include <fmt/core.h>

#include <string>
#include <string_view>

namespace spur::detail {

inline std::string describe_request(std::string_view method, std::string_view path) {
    return fmt::format("{} {}", method.empty() ? "-" : method, path.empty() ? "-" : path);
}

}  // namespace spur::detail
