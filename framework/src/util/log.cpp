#include <spur/log.hpp>

#include <fmt/core.h>

#include <cstdio>
#include <string>

namespace spur {

std::string_view to_string(LogLevel level) noexcept {
    switch (level) {
        case LogLevel::debug: return "debug";
        case LogLevel::info: return "info";
        case LogLevel::warn: return "warn";
        case LogLevel::error: return "error";
    }
    return "?";
}

LogSink stderr_log_sink(LogLevel min_level) {
    return [min_level](LogLevel level, std::string_view message) {
        if (level < min_level) return;
        // One fwrite per line so lines from different threads do not interleave.
        std::string line = fmt::format("spur {}: {}\n", to_string(level), message);
        std::fwrite(line.data(), 1, line.size(), stderr);
    };
}

}  // namespace spur
