#pragma once
// spur::BufferedLog — log lines written by a background thread, so that a request never waits
// for the disk or a pipe: the access log and the app's records go through it (its sink() and
// line_sink()).

#include <spur/log.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

namespace spur {

/// Options of a BufferedLog. The defaults suit a server logging to stderr.
struct BufferedLogOptions {
    /// Where lines go: a descriptor the log does not own or close, open as long as the log is
    /// (and any sink made from it). Default: stderr.
    int fd = 2;
    /// Bytes of lines waiting to be written, at most. When the destination does not keep up
    /// (a full disk, a pipe nobody reads) and this is reached, further lines are **dropped and
    /// counted** (dropped()); once the writer catches up it writes one warning line saying how
    /// many were lost. A request never waits for the log.
    std::size_t max_bytes = 8 * 1024 * 1024;
    /// Once a line is waiting, the writer waits this much longer for more, so that a busy
    /// server writes a batch per interval (one system call), not one per line. A line appears
    /// at most this late (plus the write); flush() does not wait for it.
    std::chrono::milliseconds linger{10};
    /// How long the destructor waits for the destination to take the lines left (flush());
    /// past it, they are lost and the writer thread is left to end with the process.
    std::chrono::milliseconds close_timeout{5000};
    /// The format of sink()'s records and of the warning about dropped lines.
    LogFormat format = LogFormat::text;
};

/// Lines appended by any thread to a short per-thread buffer (a mutex no other I/O thread
/// takes) and written whole, in batches, by one thread of its own with `writev`. A line is
/// never split or interleaved with another; lines of one thread keep their order, lines of
/// different threads may be reordered within one batch (`linger`). Lines are lost only when
/// `max_bytes` is reached (dropped, counted, reported) or the destination fails (counted);
/// the destructor writes everything else first. SIGPIPE is blocked in the writer thread (and
/// in a caller's thread while it writes a line after the destructor): a closed pipe is a
/// write error, not the end of the process. Not for a forked child: the writer thread is not
/// there; make the log after fork().
class BufferedLog {
public:
    /// Starts the writer thread; throws std::system_error if it cannot be started.
    explicit BufferedLog(BufferedLogOptions options = {});
    /// flush(close_timeout), then ends the writer thread. Sinks made from this log still work
    /// afterwards: each line is then written at once, by the caller (the exit path only).
    ~BufferedLog();
    BufferedLog(const BufferedLog&) = delete;
    BufferedLog& operator=(const BufferedLog&) = delete;

    /// Appends `line` and a newline. Never waits for the destination; drops the line (counted)
    /// when max_bytes are already waiting.
    void write(std::string_view line) const;
    /// Waits until every line appended before the call has been written (or failed); false if
    /// that takes longer than `timeout` (the destination is stalled). Not from an I/O thread.
    bool flush(std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

    /// Lines lost: dropped at max_bytes, or refused by the destination.
    std::uint64_t dropped() const noexcept;
    /// Bytes waiting to be written now (including a batch being written); ≤ max_bytes.
    std::size_t buffered_bytes() const noexcept;

    /// A LogSink writing records at `min_level` and above as options.format lines
    /// (as stderr_log_sink writes them). Thread-safe; holds the log's state, not the log.
    LogSink sink(LogLevel min_level = LogLevel::info) const;
    /// A line sink for middleware::access_log's options.sink (it adds the newline).
    std::function<void(std::string_view)> line_sink() const;

    struct State;

private:
    std::shared_ptr<State> state_;
};

}  // namespace spur
