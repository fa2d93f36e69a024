#pragma once
// A LogSink that keeps every line, for tests that check what the framework logged.

#include <spur/log.hpp>

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace spur::test {

struct CapturedLog {
    std::mutex mutex;
    std::vector<std::string> lines;

    /// A sink appending to `lines`; thread-safe. The CapturedLog must outlive its users.
    LogSink sink() {
        return [this](LogLevel, std::string_view line) {
            std::lock_guard lock(mutex);
            lines.emplace_back(line);
        };
    }
    /// Whether any line so far contains `part`.
    bool contains(std::string_view part) {
        std::lock_guard lock(mutex);
        for (const auto& l : lines)
            if (l.find(part) != std::string::npos) return true;
        return false;
    }
};

}  // namespace spur::test
