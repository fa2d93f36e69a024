#include <spur/buffered_log.hpp>

#include "util/log_line.hpp"

#include <cerrno>
#include <csignal>
#include <ctime>
#include <poll.h>
#include <pthread.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace spur {

namespace {

// A thread keeps its shard for life: with up to this many threads logging, no two I/O threads
// share a shard's mutex, and the writer takes each one only to swap its buffer.
constexpr std::size_t log_shard_count = 16;
// What a shard keeps allocated between batches; a burst's larger buffer is given back.
constexpr std::size_t log_kept_capacity = 64 * 1024;
// The longest the writer sleeps without looking for lines (see State::run).
constexpr std::chrono::milliseconds idle_recheck{50};

std::size_t this_thread_shard() {
    static std::atomic<std::size_t> next{0};
    thread_local const std::size_t index = next.fetch_add(1, std::memory_order_relaxed) % log_shard_count;
    return index;
}

std::uint64_t count_lines(const char* p, std::size_t n) {
    return static_cast<std::uint64_t>(std::count(p, p + n, '\n'));
}

}  // namespace

struct BufferedLog::State {
    explicit State(BufferedLogOptions o) : options(o) {}

    struct alignas(64) Shard {
        std::mutex mutex;
        std::string lines;
    };

    const BufferedLogOptions options;
    std::array<Shard, log_shard_count> shards;
    std::atomic<std::size_t> pending{0};     // bytes appended and not yet written (a batch in flight included)
    std::atomic<std::uint64_t> dropped{0};
    std::atomic<std::uint64_t> unreported{0};  // dropped at max_bytes since the last warning
    std::atomic<bool> sleeping{false};         // the writer found nothing waiting and waits for a line
    std::atomic<bool> closed{false};           // the writer made its last sweep: write at once

    std::mutex mutex;  // the writer's wake-ups, flush requests and stop
    std::condition_variable wake;
    std::condition_variable done;
    std::uint64_t flush_requested = 0, flushed = 0;
    bool urgent = false, stopping = false, finished = false;
    // Held by whoever writes to the descriptor: the writer, or after it a caller (closed).
    // Not a timed_mutex: ThreadSanitizer does not see pthread_mutex_clocklock.
    std::mutex io;
    std::thread thread;  // joined by ~BufferedLog, or detached when the destination is stalled

    void append(std::string_view line);
    bool flush(std::chrono::milliseconds timeout);
    void run();

private:
    void notify_writer(bool make_urgent);
    std::size_t write_batch(std::vector<std::string>& batch);
    void write_all(std::vector<iovec> iov);
    void report_drops();
    void write_now(std::string_view line);
};

void BufferedLog::State::append(std::string_view line) {
    const std::size_t n = line.size() + 1;
    // Sequentially consistent, as the writer's store to `sleeping` and its load of `pending`:
    // a relaxed add could be ordered after this thread's load of `sleeping` (on ARM), and a
    // writer about to sleep would then miss the line until the next one.
    const std::size_t before = pending.fetch_add(n);
    if (before + n > options.max_bytes) {
        pending.fetch_sub(n, std::memory_order_relaxed);
        dropped.fetch_add(1, std::memory_order_relaxed);
        unreported.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    {
        Shard& shard = shards[this_thread_shard()];
        std::unique_lock lock(shard.mutex);
        // Checked under the shard's lock: the writer sets it before its last sweep, so a line
        // is either in that sweep or written here.
        if (closed.load(std::memory_order_acquire)) {
            lock.unlock();
            pending.fetch_sub(n, std::memory_order_relaxed);
            return write_now(line);
        }
        shard.lines.append(line).push_back('\n');
    }
    // Half full: the writer stops lingering. Otherwise it is woken only from its sleep after a
    // batch that left nothing waiting, by one line: a busy server's writer never sleeps (it
    // comes back every linger), and its I/O threads make no system call for the log at all.
    const std::size_t half = options.max_bytes / 2;
    if (before < half && before + n >= half) return notify_writer(true);
    if (sleeping.load() && sleeping.exchange(false)) notify_writer(false);
}

void BufferedLog::State::notify_writer(bool make_urgent) {
    {
        std::lock_guard lock(mutex);  // the writer checks its conditions under it: no lost wake-up
        if (make_urgent) urgent = true;
    }
    wake.notify_one();
}

bool BufferedLog::State::flush(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex);
    if (finished) return true;
    const std::uint64_t target = ++flush_requested;
    wake.notify_one();
    return done.wait_for(lock, timeout, [&] { return flushed >= target || finished; });
}

void BufferedLog::State::run() {
    // A reader that closed its end of a pipe makes write fail with EPIPE; the signal stays
    // pending on this thread, blocked, instead of ending the process.
    sigset_t pipe_signal;
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);

    std::vector<std::string> batch(log_shard_count);
    std::unique_lock lock(mutex);
    for (;;) {
        const auto asked = [&] { return stopping || urgent || flush_requested != flushed; };
        // `pending` is counted before a line is appended and `sleeping` read after (both
        // sequentially consistent): either this sees the line, or its writer sees the sleep
        // and wakes it.
        // The sleep is also bounded: glibc before 2.41 can lose a pthread_cond_signal sent
        // without the mutex while its waiter times out of another wait (sourceware bug 25847),
        // and here it was lost often enough under load that lines piled up until half of
        // max_bytes (4 MiB by default) made the next one urgent. Waking to look every
        // `idle_recheck` bounds what a lost wake-up costs.
        sleeping.store(true);
        while (!wake.wait_for(lock, idle_recheck, [&] { return asked() || pending.load() > 0; })) {
        }
        sleeping.store(false);
        if (!asked()) wake.wait_for(lock, options.linger, asked);
        const std::uint64_t request = flush_requested;
        const bool stop = stopping;
        urgent = false;
        lock.unlock();
        {
            std::lock_guard writing(io);
            if (stop) closed.store(true, std::memory_order_release);
            write_batch(batch);
            report_drops();
        }
        lock.lock();
        flushed = request;
        if (stop) finished = true;
        done.notify_all();
        if (stop) return;
    }
}

std::size_t BufferedLog::State::write_batch(std::vector<std::string>& batch) {
    for (std::size_t i = 0; i < log_shard_count; ++i) {
        std::lock_guard lock(shards[i].mutex);
        batch[i].swap(shards[i].lines);  // the shard keeps the batch's emptied buffer
    }
    std::vector<iovec> iov;
    std::size_t total = 0;
    for (auto& lines : batch) {
        if (lines.empty()) continue;
        iov.push_back({lines.data(), lines.size()});
        total += lines.size();
    }
    if (total > 0) write_all(std::move(iov));
    pending.fetch_sub(total, std::memory_order_relaxed);
    for (auto& lines : batch) {
        if (lines.capacity() > log_kept_capacity) std::string().swap(lines);
        else lines.clear();
    }
    return total;
}

// Everything in `iov`, across partial writes; on an error other than EINTR/EAGAIN the rest
// is lost and its lines counted as dropped.
void BufferedLog::State::write_all(std::vector<iovec> iov) {
    std::size_t first = 0;
    while (first < iov.size()) {
        const int count = static_cast<int>(std::min<std::size_t>(iov.size() - first, IOV_MAX));
        const ssize_t n = ::writev(options.fd, iov.data() + first, count);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {  // someone made the descriptor non-blocking
                pollfd pfd{options.fd, POLLOUT, 0};
                ::poll(&pfd, 1, 1000);
                continue;
            }
            if (errno == EPIPE) {  // take the signal the write raised, so it is not left pending
                sigset_t pipe_signal;
                sigemptyset(&pipe_signal);
                sigaddset(&pipe_signal, SIGPIPE);
                timespec zero{};
                ::sigtimedwait(&pipe_signal, nullptr, &zero);
            }
            std::uint64_t lost = 0;
            for (std::size_t i = first; i < iov.size(); ++i) lost += count_lines(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
            dropped.fetch_add(lost, std::memory_order_relaxed);
            return;
        }
        auto left = static_cast<std::size_t>(n);
        while (first < iov.size() && left >= iov[first].iov_len) left -= iov[first++].iov_len;
        if (first < iov.size()) {
            iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
            iov[first].iov_len -= left;
        }
    }
}

// One line per episode of drops, once the writer has caught up (less than half full again):
// the operator learns how many lines are missing, and is not flooded with warnings.
void BufferedLog::State::report_drops() {
    if (unreported.load(std::memory_order_relaxed) == 0 || pending.load(std::memory_order_relaxed) >= options.max_bytes / 2)
        return;
    const std::uint64_t lost = unreported.exchange(0, std::memory_order_relaxed);
    const LogField fields[] = {{"dropped", lost}, {"max_bytes", options.max_bytes}};
    std::string line = detail::format_line(LogRecord{.level = LogLevel::warn,
                                             .message = "log lines dropped: the log's destination did not keep up",
                                             .fields = fields},
                                   options.format);
    line += '\n';
    write_all({iovec{line.data(), line.size()}});
}

void BufferedLog::State::write_now(std::string_view line) {
    std::unique_lock writing(io, std::try_to_lock);
    // The writer may still be stuck in its last write to a stalled destination: give up after
    // close_timeout rather than hold the caller for ever (the exit path only: a short poll).
    const auto deadline = std::chrono::steady_clock::now() + options.close_timeout;
    while (!writing.owns_lock()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            dropped.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        writing.try_lock();
    }
    std::string out(line);
    out += '\n';
    // The caller's thread, unlike the writer's, may take SIGPIPE: a reader that closed its end
    // of the pipe would end the process on the exit path. Blocked for this write (write_all
    // takes the signal EPIPE leaves pending), as the writer thread blocks it for good.
    sigset_t pipe_signal, previous;
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_signal, &previous);
    write_all({iovec{out.data(), out.size()}});
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

BufferedLog::BufferedLog(BufferedLogOptions options) : state_(std::make_shared<State>(options)) {
    state_->thread = std::thread([state = state_] { state->run(); });
}

BufferedLog::~BufferedLog() {
    // One deadline for the flush and the stop: a stalled destination holds the exit for
    // close_timeout, not twice that.
    const auto deadline = std::chrono::steady_clock::now() + state_->options.close_timeout;
    state_->flush(state_->options.close_timeout);
    std::unique_lock lock(state_->mutex);
    state_->stopping = true;
    state_->wake.notify_one();
    // The thread holds the state; if the destination is stalled it is left to end with the
    // process, and lines written from now on wait for it at most close_timeout each.
    const bool finished = state_->done.wait_until(lock, deadline, [&] { return state_->finished; });
    lock.unlock();
    if (finished) state_->thread.join();
    else state_->thread.detach();
}

void BufferedLog::write(std::string_view line) const { state_->append(line); }

bool BufferedLog::flush(std::chrono::milliseconds timeout) const { return state_->flush(timeout); }

std::uint64_t BufferedLog::dropped() const noexcept { return state_->dropped.load(std::memory_order_relaxed); }

std::size_t BufferedLog::buffered_bytes() const noexcept { return state_->pending.load(std::memory_order_relaxed); }

LogSink BufferedLog::sink(LogLevel min_level) const {
    return LogSink([state = state_, min_level](const LogRecord& r) {
        if (r.level >= min_level) state->append(detail::format_line(r, state->options.format));
    });
}

std::function<void(std::string_view)> BufferedLog::line_sink() const {
    return [state = state_](std::string_view line) { state->append(line); };
}

}  // namespace spur
