#pragma once
// spur::LogSink — where the framework reports errors and notices; defaults to stderr.

#include <functional>
#include <string_view>

namespace spur {

/// Severity of a log line.
enum class LogLevel { debug, info, warn, error };

/// Receives one complete log line (no trailing newline). Called from I/O threads: must be thread-safe.
using LogSink = std::function<void(LogLevel, std::string_view)>;

/// A sink that writes "LEVEL message" lines to stderr, one write per line.
LogSink stderr_log_sink(LogLevel min_level = LogLevel::info);

/// Name of a level: "debug", "info", "warn", "error".
std::string_view to_string(LogLevel level) noexcept;

}  // namespace spur
