#pragma once
// What spur::mysql::Jobs shares between its queue operations (jobs_queue.cpp) and its workers
// (jobs_worker.cpp). Private to those two files.

#include <spur/log.hpp>
#include <spur/metrics.hpp>
#include <spur/mysql/jobs.hpp>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <cstdint>

#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace spur::mysql {

using JobHandler = std::function<Task<>(const Job&)>;

/// One worker coroutine. Touched on the strand only.
struct JobWorker {
    enum class Phase { idle, claiming, running, finishing, ended };
    Phase phase = Phase::idle;
    boost::asio::cancellation_signal signal;
};

struct Jobs::State {
    State(Pool& p, JobsOptions o);

    Pool& pool;
    const JobsOptions options;
    const std::string table;          // the jobs
    const std::string effects_table;  // once()'s marks

    std::mutex mutex;  // handlers and the lifecycle flags, read from any thread
    std::map<std::string, JobHandler, std::less<>> handlers;
    bool started = false;
    bool served = false;  // serve() was called

    // On the strand only, once started:
    std::optional<boost::asio::strand<boost::asio::any_io_executor>> strand;
    std::vector<std::shared_ptr<JobWorker>> workers;  // the gauge reader among them
    std::size_t live = 0;                              // workers not ended
    std::optional<boost::asio::steady_timer> all_ended;  // cancelled when `live` reaches 0
    bool draining = false;
    bool stopping = false;
    // Looking for due jobs fails (the database is out of reach): every worker fails every
    // poll, so one line says so, then one a minute, then one when it answers again.
    std::uint64_t claim_failures = 0;  // since the last success
    std::uint64_t failures_unlogged = 0;
    std::chrono::steady_clock::time_point failure_logged;
    std::mt19937_64 random{std::random_device{}()};  // backoff jitter

    LogSink log = stderr_log_sink(LogLevel::info);

    // collect_metrics(): null until then.
    CounterFamily* done_total = nullptr;
    CounterFamily* retried_total = nullptr;
    CounterFamily* dead_total = nullptr;
    Gauge* queued = nullptr;
    Gauge* running = nullptr;
    Gauge* dead = nullptr;
    Gauge* oldest_due = nullptr;

    JobHandler handler(std::string_view kind);
    /// The pause before run `attempt + 1` (attempt ≥ 1): backoff doubling, capped, jittered.
    std::chrono::milliseconds backoff_after(unsigned attempt);
    void count(CounterFamily* family, std::string_view kind) noexcept;
};

namespace detail {
/// Throws std::invalid_argument unless `table` is [A-Za-z0-9_], 1..48 characters.
std::string checked_jobs_table(std::string table);
/// Throws std::invalid_argument unless `kind` is [A-Za-z0-9._:-], 1..64 characters.
void check_job_kind(std::string_view kind);
/// "<host>:<pid>".
std::string default_job_owner();
/// Jobs::counts() on the state alone, so that the gauge reader holds no pointer to the Jobs.
Task<JobCounts> count_jobs(std::shared_ptr<Jobs::State> s);
/// Microseconds, for `INTERVAL ? MICROSECOND`.
inline std::int64_t micros(std::chrono::milliseconds d) { return static_cast<std::int64_t>(d.count()) * 1000; }
}  // namespace detail

}  // namespace spur::mysql
