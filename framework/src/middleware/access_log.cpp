#include <spur/middleware/access_log.hpp>

#include <spur/middleware/request_id.hpp>

#include "util/utf8.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <fmt/chrono.h>
#include <fmt/core.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <iterator>
#include <memory>
#include <string>

namespace spur::middleware {

namespace {

using Clock = std::chrono::steady_clock;

// Quoted fields of the combined format must not break the line's structure.
std::string escape_quoted(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
        } else if (c < 0x20 || c == 0x7F) {
            out += fmt::format("\\x{:02x}", c);
        } else {
            out.push_back(static_cast<char>(c));
        }
    }
    return out;
}

std::uint64_t body_bytes(const Response& res) { return res.bytes_sent(); }

// A request refused before its request line could be read has no method or path.
std::string_view or_dash(std::string_view s) { return s.empty() ? std::string_view("-") : s; }

// "22/Nov/2026:04:09:01", formatted once a second per thread rather than once a request.
std::string_view clf_time() {
    thread_local std::chrono::sys_seconds cached{};
    thread_local std::string text;
    auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    if (now != cached || text.empty()) {
        text = fmt::format("{:%d/%b/%Y:%H:%M:%S}", now);
        cached = now;
    }
    return text;
}

// The request's trace id when it has one: made by something that used it (req.log(), an error
// body, an outgoing call), or sent by the caller — the access line is where a trace that began
// upstream finds this server. Otherwise none is made: an id that nothing else carries would
// correlate nothing, and every request would pay for a random draw.
std::string_view trace_id_of(const Request& req) {
    return req.has_trace() || req.has_header("traceparent") ? req.trace().trace_id_hex() : std::string_view{};
}

template <class Number, class... Format>
void append_number(std::string& out, Number n, Format... format) {
    char digits[64];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n, format...);
    if (ec == std::errc()) out.append(digits, end);
    else out += fmt::format("{}", n);  // a duration past 10^60 ms: not from this clock
}

// The format of every request of a server that logs to a terminal or journald: written by hand,
// as fmt::format's parse and dispatch of nine arguments cost three times the line itself.
void dev_line(const Request& req, const Response& res, Clock::duration elapsed, std::string_view id,
              std::string_view trace, std::string& line) {
    const std::string_view method = or_dash(req.method()), target = or_dash(req.target());
    line.append(method).push_back(' ');
    line.append(target).push_back(' ');
    append_number(line, res.status());
    line.push_back(' ');
    append_number(line, body_bytes(res));
    line += "B ";
    // Milliseconds to three places from whole microseconds: to_chars of a double with a
    // precision cost a fifth of the line.
    const auto us = std::chrono::round<std::chrono::microseconds>(elapsed).count();
    append_number(line, us / 1000);
    const auto frac = static_cast<int>(us % 1000);
    const char fraction[] = {'.', static_cast<char>('0' + frac / 100), static_cast<char>('0' + frac / 10 % 10),
                             static_cast<char>('0' + frac % 10), 'm', 's'};
    line.append(fraction, sizeof fraction);
    if (!id.empty()) line.append(" id=").append(id);
    if (!trace.empty()) line.append(" trace=").append(trace);
}

// The line, into `line` (empty).
void format_line(AccessLogFormat format, const Request& req, const Response& res, Clock::duration elapsed,
                 std::string& line) {
    const auto id = request_id_of(req);
    const auto trace = trace_id_of(req);
    const double ms = std::chrono::duration<double, std::milli>(elapsed).count();
    switch (format) {
        case AccessLogFormat::dev:
            dev_line(req, res, elapsed, id, trace, line);
            return;
        case AccessLogFormat::combined: {
            std::string referer = escape_quoted(req.header("Referer"));
            std::string agent = escape_quoted(req.header("User-Agent"));
            fmt::format_to(std::back_inserter(line), "{} - - [{} +0000] \"{} {} HTTP/{}.{}\" {} {} \"{}\" \"{}\" {:.3f} {} {}",
                           or_dash(req.ip()), clf_time(), or_dash(req.method()), or_dash(escape_quoted(req.target())),
                           req.version() / 10, req.version() % 10, res.status(), body_bytes(res),
                           referer.empty() ? "-" : referer, agent.empty() ? "-" : agent, ms, or_dash(id), or_dash(trace));
            return;
        }
        case AccessLogFormat::json: {
            boost::json::object o;
            o["time"] = fmt::format("{:%FT%TZ}", std::chrono::time_point_cast<std::chrono::milliseconds>(
                                                     std::chrono::system_clock::now()));
            o["method"] = or_dash(req.method());
            o["path"] = or_dash(req.target());
            o["status"] = res.status();
            o["bytes"] = body_bytes(res);
            o["duration_ms"] = ms;
            o["remote"] = req.ip();
            if (!id.empty()) o["request_id"] = id;
            if (!trace.empty()) o["trace_id"] = trace;
            if (auto ua = req.header("User-Agent"); !ua.empty()) o["user_agent"] = ua;
            line = detail::valid_utf8(boost::json::serialize(o));  // the path and User-Agent are the client's bytes
            return;
        }
    }
}

// Writes the line through the sink from a buffer the thread reuses: no allocation per line.
// The buffer is taken for the call, so a sink that causes another access line on this thread
// (an in-process request) gets a buffer of its own, not this line's.
void log_line(const AccessLogOptions& opts, const Request& req, const Response& res, Clock::duration elapsed) {
    thread_local std::string kept;
    std::string line = std::move(kept);
    line.clear();
    format_line(opts.format, req, res, elapsed, line);
    opts.sink(line);
    if (line.capacity() <= 64 * 1024) kept = std::move(line);  // not a huge target's line's
}

}  // namespace

Middleware access_log(AccessLogOptions options) {
    if (!options.sink) {
        options.sink = [](std::string_view line) {
            std::string out(line);
            out.push_back('\n');
            std::fwrite(out.data(), 1, out.size(), stderr);
        };
    }
    auto shared = std::make_shared<const AccessLogOptions>(std::move(options));
    return before([shared](Request& req, Response& res) {
        const auto start = Clock::now();
        const AccessLogOptions* opts = shared.get();  // lives as long as the middleware
        res.on_finish([opts, &req, start](Response& r) {
            log_line(*opts, req, r, Clock::now() - start);
        });
    });
}

}  // namespace spur::middleware
