#pragma once
// spur::mysql::Jobs — durable background jobs in a MariaDB/MySQL table: enqueued inside the
// caller's transaction, claimed with a lease by workers on every instance, retried with backoff,
// dead-lettered, and returned to the queue on shutdown.

#include <spur/mysql/connection.hpp>
#include <spur/mysql/migrator.hpp>
#include <spur/mysql/pool.hpp>
#include <spur/mysql/value.hpp>
#include <spur/task.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace spur {
class App;
class MetricsRegistry;
}  // namespace spur

namespace spur::mysql {

/// What one enqueue() asks for.
struct JobOptions {
    std::chrono::milliseconds delay{0};  ///< run no earlier than this from now (the database's clock)
    int priority = 0;                    ///< among due jobs, higher first
    unsigned max_attempts = 0;           ///< runs before the job is dead; 0: JobsOptions::max_attempts
};

/// A claimed job, as its handler sees it.
struct Job {
    std::uint64_t id = 0;
    std::string kind;
    std::string payload;     ///< as enqueued (JSON by convention)
    unsigned attempt = 1;    ///< 1 on the first run; a run cut short by a crash counts
    unsigned max_attempts = 1;
};

enum class JobState { queued, running, done, dead };
/// "queued", "running", "done", "dead".
std::string_view to_string(JobState state) noexcept;

/// One job as operators see it (Jobs::list).
struct JobInfo {
    std::uint64_t id = 0;
    std::string kind;
    JobState state = JobState::queued;
    int priority = 0;
    unsigned attempts = 0;
    unsigned max_attempts = 0;
    DateTime created_at;                 ///< UTC
    DateTime run_at;                     ///< UTC: when it is (or was) due
    std::optional<DateTime> lease_until; ///< while running
    std::optional<DateTime> finished_at; ///< done or dead
    std::string owner;                   ///< the instance that ran it last (JobsOptions::owner)
    std::string last_error;              ///< the last failed run's exception message
};

/// How many jobs are in each state, and how long the oldest due one has waited.
struct JobCounts {
    std::uint64_t queued = 0;  ///< including those not due yet
    std::uint64_t running = 0;
    std::uint64_t done = 0;
    std::uint64_t dead = 0;
    double oldest_due_seconds = 0;  ///< age of the oldest queued job that is due (0: none)
};

/// A handler throws this for a failure that retrying cannot fix: the job is dead at once.
class PermanentJobError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct JobsOptions {
    /// The table ([A-Za-z0-9_], at most 48 characters); `<table>_effects` holds once()'s marks.
    std::string table = "spur_jobs";
    /// Jobs this instance runs at once.
    unsigned concurrency = 4;
    /// A claim's length. It is renewed every lease/3 while the handler runs, so only a crashed
    /// (or cut off) instance's job is claimed again, once its lease has passed.
    std::chrono::milliseconds lease{30'000};
    /// The longest one run of a handler may take. Past it the handler is cancelled and the run
    /// counts as failed ("timed out"): retried with backoff, then dead. Without a bound, a
    /// handler that never returns would keep renewing its lease, and hold its worker, for ever.
    /// A handler that ignores cancellation (a blocking call in spur::offload) keeps its worker
    /// until it returns, but no longer its lease.
    std::chrono::milliseconds timeout{15 * 60 * 1000};
    /// The pause of an idle worker before it looks for due jobs again.
    std::chrono::milliseconds poll{1'000};
    /// Runs before a failing job is dead (JobOptions::max_attempts overrides it per job).
    unsigned max_attempts = 5;
    /// The pause before the second run; it doubles for each later run, up to max_backoff, and
    /// is jittered (a random value between half and all of it), so failing jobs do not retry in step.
    std::chrono::milliseconds backoff{1'000};
    std::chrono::milliseconds max_backoff{3'600'000};
    /// enqueue() refuses a larger payload (std::invalid_argument): jobs carry ids, not documents.
    std::size_t max_payload = 64 * 1024;
    /// How often the metrics' gauges (queued, running, dead, oldest due) are read from the table.
    std::chrono::milliseconds gauge_interval{5'000};
    /// This instance's name in JobInfo::owner (default: host name and process id).
    std::string owner;
};

/// The queue and this instance's workers. A job is a row: enqueue() adds it in the caller's
/// transaction (the transactional outbox: the job exists if and only if the write commits);
/// workers on every instance claim due jobs — highest priority, then oldest — with a
/// compare-and-set UPDATE that holds on a Galera cluster (two nodes claiming one job: one loses
/// certification), run the handler registered for the job's kind, and mark it done.
///
/// Delivery is at least once: a run that crashes or loses its lease is run again, so handlers
/// must be idempotent — a database effect made once by once(), an external one (a mail) made
/// so that a repeat is harmless. A handler that throws is retried with backoff up to
/// max_attempts, then the job is dead with the last error kept (retry() brings it back); a
/// PermanentJobError, or a job whose kind has no handler here, is dead at once — on the instance
/// that claimed it, so every instance must register every kind it may see.
///
/// Handlers run on the server's executor: a blocking call goes through spur::offload.
/// The Pool must outlive the Jobs, and the Jobs the app it serves.
class Jobs {
public:
    /// Throws std::invalid_argument for a bad table name, concurrency 0, a lease under 30 ms,
    /// max_attempts 0, a timeout that is not positive or a negative duration.
    explicit Jobs(Pool& pool, JobsOptions options = {});
    ~Jobs();
    Jobs(const Jobs&) = delete;
    Jobs& operator=(const Jobs&) = delete;

    /// The tables' DDL (jobs and effects) as a migration, for an app that lists its migrations.
    static Migration migration(int version, std::string_view table = "spur_jobs");
    /// Creates the tables if they do not exist (the same DDL). Throws Error.
    Task<> create_table();

    /// Registers the handler of `kind` (at most 64 characters), replacing an earlier one.
    /// Throws std::logic_error once workers have started, std::invalid_argument for a bad kind.
    void handle(std::string kind, std::function<Task<>(const Job&)> handler);

    /// Adds a job on `connection`, in its open transaction if it has one. Returns the job's id.
    /// Throws std::invalid_argument for an empty or too long kind or a payload over
    /// max_payload; Error from the statement.
    Task<std::uint64_t> enqueue(Connection& connection, std::string kind, std::string payload, JobOptions options = {});
    /// The same on a connection of the pool, outside any transaction.
    Task<std::uint64_t> enqueue(std::string kind, std::string payload, JobOptions options = {});

    /// "Done once by effect": inside the handler's own transaction, records that `job` made
    /// `effect`, and returns false if it already had (an earlier run committed it before
    /// crashing), so the handler skips the effect. The mark commits or rolls back with the
    /// effect. Throws Error.
    Task<bool> once(Connection& transaction, const Job& job, std::string_view effect = "");

    /// Runs this instance's workers while `app` serves (an extension on the app): they start
    /// claiming when serving starts, stop claiming when the drain begins (running jobs go on),
    /// and at stop cancel what still runs — those jobs go back to the queue, due at once, the
    /// cut run not counted. Throws std::logic_error if called twice.
    void serve(App& app);
    /// The same without an App: start on `executor`; drain() stops claiming; stop() cancels the
    /// running handlers, returns their jobs and completes when every worker has ended.
    void start(const boost::asio::any_io_executor& executor);
    void drain() noexcept;
    Task<> stop();

    /// jobs_done_total, jobs_retried_total, jobs_dead_total (by kind; this instance's runs) and
    /// the gauges jobs_queued, jobs_running, jobs_dead, jobs_oldest_due_seconds (the whole table,
    /// read every gauge_interval while workers run). Throws std::invalid_argument if the names
    /// are taken differently.
    void collect_metrics(MetricsRegistry& registry);

    // For operators (the `jobs` commands of an app's command line).
    /// Jobs newest first, `state` only when given, at most `limit`. Throws Error.
    Task<std::vector<JobInfo>> list(std::optional<JobState> state = std::nullopt, std::size_t limit = 100);
    /// Makes a dead (or queued) job due now with its attempts reset; false if there is no such
    /// job, or it is running or done. Throws Error.
    Task<bool> retry(std::uint64_t id);
    /// Deletes done jobs finished more than `older_than` ago (and dead ones too with
    /// `dead_too`), with their once() marks, in batches; returns how many. Throws Error.
    Task<std::uint64_t> purge(std::chrono::seconds older_than, bool dead_too = false);
    /// Counts by state. Throws Error.
    Task<JobCounts> counts();

    struct State;

private:
    std::shared_ptr<State> state_;
};

}  // namespace spur::mysql
