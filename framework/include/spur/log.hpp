#pragma once
// spur's logging: records with a level, a message, the request and trace ids and fields; sinks that write
// them as text or JSON lines. Thin on purpose: a sink is a function, so any logging library
// can sit behind it.

#include <boost/json/value.hpp>

#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace spur {

/// Severity of a log line.
enum class LogLevel { debug, info, warn, error };

/// One extra key/value of a record (`{"user_id", 42}`).
struct LogField {
    std::string_view key;
    boost::json::value value;
};

/// What is logged: a message, the ids of the request it happened in ("" outside one), fields.
/// Every member has a default, so a designated initialiser names only what it sets; trace_id
/// comes last and positional initialisers written before it compile (GCC's -Wextra included).
struct LogRecord {
    LogLevel level = LogLevel::info;
    std::string_view message{};
    std::string_view request_id{};
    std::span<const LogField> fields{};
    std::string_view trace_id{};  ///< the request's W3C trace id (`req.trace()`): 32 lowercase hex
};

/// Receives log records. Called from I/O threads: must be thread-safe. Made from a function
/// taking the record, or from one taking (level, line), which gets the record as one text line.
class LogSink {
public:
    using RecordFunction = std::function<void(const LogRecord&)>;
    using LineFunction = std::function<void(LogLevel, std::string_view)>;

    LogSink() = default;
    LogSink(RecordFunction f) : f_(std::move(f)) {}  // NOLINT(google-explicit-constructor)
    LogSink(LineFunction f);                           // NOLINT(google-explicit-constructor)
    /// Lambdas convert like std::function does, to whichever form they can be called as.
    template <class F>
        requires(std::is_invocable_v<F&, const LogRecord&> && !std::is_same_v<std::remove_cvref_t<F>, LogSink>)
    LogSink(F f) : f_(RecordFunction(std::move(f))) {}  // NOLINT(google-explicit-constructor)
    template <class F>
        requires(std::is_invocable_v<F&, LogLevel, std::string_view> && !std::is_invocable_v<F&, const LogRecord&> &&
                 !std::is_same_v<std::remove_cvref_t<F>, LogSink>)
    LogSink(F f) : LogSink(LineFunction(std::move(f))) {}  // NOLINT(google-explicit-constructor)

    /// Logs a record.
    void operator()(const LogRecord& record) const {
        if (f_) f_(record);
    }
    /// Logs `message` with no request and no fields.
    void operator()(LogLevel level, std::string_view message) const { (*this)(LogRecord{.level = level, .message = message}); }
    explicit operator bool() const noexcept { return static_cast<bool>(f_); }

private:
    RecordFunction f_;
};

/// How a sink writes records.
enum class LogFormat {
    text,  ///< `spur error: message request_id=… trace_id=… key=value` (see format_text)
    json,  ///< `{"time":"2026-12-01T12:00:00.123Z","level":"error","msg":"…","request_id":"…","trace_id":"…",key:value}`
};

/// A sink that writes one line per record to stderr, one write per line (threads never
/// interleave), dropping records below `min_level`.
LogSink stderr_log_sink(LogLevel min_level = LogLevel::info, LogFormat format = LogFormat::text);

/// A record as text: `message request_id=… trace_id=… key=value` (no level, no newline; an id
/// that is empty is left out; a value that is not a plain word is JSON-quoted; the message's
/// control characters but tab are escaped as `\n`, `\r` or `\xNN`, and C1 controls and U+2028/2029
/// as `\uNNNN`, so that it stays one line; a value holding a control character is JSON-quoted).
/// What a (level, line) sink receives.
std::string format_text(const LogRecord& record);
/// A record as one JSON object (no newline), with the current UTC time.
std::string format_json(const LogRecord& record);

/// Name of a level: "debug", "info", "warn", "error".
std::string_view to_string(LogLevel level) noexcept;

/// Logging for one request (`req.log()`): every record carries the request's id and trace id.
class RequestLog {
public:
    RequestLog(const LogSink& sink, std::string_view request_id, std::string_view trace_id = {}) noexcept
        : sink_(sink), id_(request_id), trace_id_(trace_id) {}
    void debug(std::string_view message, std::initializer_list<LogField> fields = {}) const { write(LogLevel::debug, message, fields); }
    void info(std::string_view message, std::initializer_list<LogField> fields = {}) const { write(LogLevel::info, message, fields); }
    void warn(std::string_view message, std::initializer_list<LogField> fields = {}) const { write(LogLevel::warn, message, fields); }
    void error(std::string_view message, std::initializer_list<LogField> fields = {}) const { write(LogLevel::error, message, fields); }
    /// A record at `level`.
    void write(LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {}) const {
        sink_(LogRecord{.level = level,
                        .message = message,
                        .request_id = id_,
                        .fields = std::span<const LogField>(fields.begin(), fields.size()),
                        .trace_id = trace_id_});
    }

private:
    const LogSink& sink_;
    std::string_view id_;
    std::string_view trace_id_;
};

}  // namespace spur
