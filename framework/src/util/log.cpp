#include <spur/log.hpp>

#include "util/log_line.hpp"
#include "util/utf8.hpp"

#include <boost/json/serialize.hpp>
#include <fmt/chrono.h>
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iterator>
#include <string>

namespace spur {

namespace json = boost::json;

std::string_view to_string(LogLevel level) noexcept {
    switch (level) {
        case LogLevel::debug: return "debug";
        case LogLevel::info: return "info";
        case LogLevel::warn: return "warn";
        case LogLevel::error: return "error";
    }
    return "?";
}

namespace {
// key=value, quoting a value a reader (or a log shipper's key=value parser) would split.
void append_pair(std::string& out, std::string_view key, const json::value& value) {
    out += ' ';
    out += key;
    out += '=';
    if (const auto* s = value.if_string()) {
        // Control characters (an escape sequence, say) are quoted too: JSON escapes them.
        const bool plain = !s->empty() && s->find_first_of(" \t\r\n\"=\\") == json::string::npos &&
                           std::none_of(s->begin(), s->end(), [](unsigned char c) { return c < 0x20 || c == 0x7F; });
        out += plain ? std::string_view(*s) : std::string_view(json::serialize(value));
        if (!plain) return;
    } else {
        out += json::serialize(value);
    }
}

// The message with its control characters escaped (a tab stays): a newline in an exception's
// text, or a client's bytes in a message, would otherwise start a forged line in the log or
// send escape sequences to an operator's terminal. The C1 controls (U+0080–U+009F, NEL and CSI
// among them) and the line and paragraph separators U+2028/2029, which some readers take for a
// line's end, are escaped too.
void append_message(std::string& out, std::string_view message) {
    const auto control = [](unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7F; };
    // The length of a UTF-8 encoded C1 control or U+2028/2029 starting at i, else 0.
    const auto wide_control = [&](std::size_t i) -> std::size_t {
        const auto at = [&](std::size_t k) { return k < message.size() ? static_cast<unsigned char>(message[k]) : 0; };
        if (at(i) == 0xC2 && at(i + 1) >= 0x80 && at(i + 1) <= 0x9F) return 2;
        if (at(i) == 0xE2 && at(i + 1) == 0x80 && (at(i + 2) == 0xA8 || at(i + 2) == 0xA9)) return 3;
        return 0;
    };
    if (std::none_of(message.begin(), message.end(), [&](unsigned char c) { return control(c) || c == 0xC2 || c == 0xE2; })) {
        out += message;
        return;
    }
    for (std::size_t i = 0; i < message.size(); ++i) {
        const auto c = static_cast<unsigned char>(message[i]);
        if (const auto n = wide_control(i)) {
            const unsigned code = n == 2 ? static_cast<unsigned char>(message[i + 1]) : 0x2000u + (static_cast<unsigned char>(message[i + 2]) - 0x80u);
            fmt::format_to(std::back_inserter(out), "\\u{:04x}", code);
            i += n - 1;
        } else if (!control(c)) {
            out.push_back(static_cast<char>(c));
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else {
            fmt::format_to(std::back_inserter(out), "\\x{:02x}", c);
        }
    }
}
}  // namespace

std::string format_text(const LogRecord& r) {
    std::string out;
    append_message(out, r.message);
    if (!r.request_id.empty()) append_pair(out, "request_id", json::string(r.request_id));
    if (!r.trace_id.empty()) append_pair(out, "trace_id", json::string(r.trace_id));
    for (const auto& f : r.fields) append_pair(out, f.key, f.value);
    return detail::valid_utf8(out);
}

std::string format_json(const LogRecord& r) {
    using namespace std::chrono;
    const auto now = time_point_cast<milliseconds>(system_clock::now());
    const auto seconds = time_point_cast<std::chrono::seconds>(now);
    json::object o;
    o["time"] = fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", seconds, (now - seconds).count());
    o["level"] = to_string(r.level);
    o["msg"] = r.message;
    if (!r.request_id.empty()) o["request_id"] = r.request_id;
    if (!r.trace_id.empty()) o["trace_id"] = r.trace_id;
    for (const auto& f : r.fields) o[f.key] = f.value;
    // Boost.JSON escapes control characters but copies other bytes as they are: a message or a
    // field holding a client's invalid UTF-8 would make the line unreadable as JSON.
    return detail::valid_utf8(json::serialize(o));
}

LogSink::LogSink(LineFunction f) {
    if (!f) return;
    f_ = [f = std::move(f)](const LogRecord& r) { f(r.level, format_text(r)); };
}

std::string detail::format_line(const LogRecord& r, LogFormat format) {
    return format == LogFormat::json ? format_json(r) : fmt::format("spur {}: {}", to_string(r.level), format_text(r));
}

LogSink stderr_log_sink(LogLevel min_level, LogFormat format) {
    return LogSink([min_level, format](const LogRecord& r) {
        if (r.level < min_level) return;
        // One fwrite per line so lines from different threads do not interleave.
        std::string line = detail::format_line(r, format);
        line += '\n';
        std::fwrite(line.data(), 1, line.size(), stderr);
    });
}

}  // namespace spur
