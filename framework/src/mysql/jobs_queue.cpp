// spur::mysql::Jobs: the table and what is done to it from outside the workers (enqueue, once,
// and the operators' list, retry, purge and counts).
#include "mysql/jobs_state.hpp"

#include <spur/mysql/error.hpp>

#include <unistd.h>

#include <algorithm>
#include <stdexcept>

namespace spur::mysql {

namespace detail {

std::string checked_jobs_table(std::string table) {
    bool ok = !table.empty() && table.size() <= 48;
    for (char c : table) ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
    if (!ok) throw std::invalid_argument("spur::mysql::Jobs: invalid table name \"" + table + "\"");
    return table;
}

void check_job_kind(std::string_view kind) {
    bool ok = !kind.empty() && kind.size() <= 64;
    for (char c : kind)
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                    c == ':' || c == '-');
    if (!ok) throw std::invalid_argument("spur::mysql::Jobs: a job kind is 1 to 64 of [A-Za-z0-9._:-]");
}

std::string default_job_owner() {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    return std::string(host) + ":" + std::to_string(getpid());
}

namespace {
// Both tables. Dates are the database's UTC clock (UTC_TIMESTAMP(3)) everywhere, so instances
// whose clocks disagree still agree on when a job is due or a lease has passed. The payload is
// bytes (a BLOB): the queue does not care what it holds.
std::string ddl(const std::string& table) {
    return "CREATE TABLE IF NOT EXISTS " + table +
           " (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
           " kind VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
           " payload MEDIUMBLOB NOT NULL,"
           " state ENUM('queued','running','done','dead') NOT NULL DEFAULT 'queued',"
           " priority INT NOT NULL DEFAULT 0,"
           " attempts INT UNSIGNED NOT NULL DEFAULT 0,"
           " max_attempts INT UNSIGNED NOT NULL,"
           " run_at DATETIME(3) NOT NULL,"
           " lease_until DATETIME(3) NULL,"
           " claim CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,"
           " owner VARCHAR(255) NOT NULL DEFAULT '',"
           " last_error TEXT NULL,"
           " created_at DATETIME(3) NOT NULL,"
           " finished_at DATETIME(3) NULL,"
           " KEY due (state, priority DESC, run_at),"
           " KEY finished (state, finished_at)) ENGINE=InnoDB;\n"
           "CREATE TABLE IF NOT EXISTS " +
           table +
           "_effects (job_id BIGINT UNSIGNED NOT NULL,"
           " effect VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
           " created_at DATETIME(3) NOT NULL,"
           " PRIMARY KEY (job_id, effect)) ENGINE=InnoDB";
}

JobState state_from(std::string_view s) {
    if (s == "running") return JobState::running;
    if (s == "done") return JobState::done;
    if (s == "dead") return JobState::dead;
    return JobState::queued;
}
}  // namespace

}  // namespace detail

std::string_view to_string(JobState state) noexcept {
    switch (state) {
        case JobState::running: return "running";
        case JobState::done: return "done";
        case JobState::dead: return "dead";
        case JobState::queued: break;
    }
    return "queued";
}

Jobs::State::State(Pool& p, JobsOptions o)
    : pool(p), options(std::move(o)), table(detail::checked_jobs_table(options.table)), effects_table(table + "_effects") {
    if (options.concurrency == 0) throw std::invalid_argument("spur::mysql::Jobs: concurrency must be at least 1");
    if (options.lease < std::chrono::milliseconds(30)) throw std::invalid_argument("spur::mysql::Jobs: lease under 30 ms");
    if (options.max_attempts == 0) throw std::invalid_argument("spur::mysql::Jobs: max_attempts must be at least 1");
    if (options.poll.count() <= 0 || options.backoff.count() < 0 || options.max_backoff.count() < 0 ||
        options.gauge_interval.count() <= 0 || options.timeout.count() <= 0)
        throw std::invalid_argument("spur::mysql::Jobs: poll, gauge_interval and timeout must be positive, backoffs not negative");
}

JobHandler Jobs::State::handler(std::string_view kind) {
    std::lock_guard lock(mutex);
    auto found = handlers.find(kind);
    return found == handlers.end() ? JobHandler{} : found->second;
}

std::chrono::milliseconds Jobs::State::backoff_after(unsigned attempt) {
    const auto cap = options.max_backoff.count();
    long long pause = options.backoff.count();
    for (unsigned i = 1; i < attempt && pause < cap; ++i) pause *= 2;
    pause = std::min<long long>(pause, cap);
    if (pause <= 1) return std::chrono::milliseconds(pause);
    // Between half and all of it: failures that began together spread out.
    std::uniform_int_distribution<long long> jitter(pause / 2, pause);
    return std::chrono::milliseconds(jitter(random));
}

void Jobs::State::count(CounterFamily* family, std::string_view kind) noexcept {
    if (family) family->labels({kind}).inc();
}

Jobs::Jobs(Pool& pool, JobsOptions options) {
    if (options.owner.empty()) options.owner = detail::default_job_owner();
    state_ = std::make_shared<State>(pool, std::move(options));
}

Jobs::~Jobs() = default;

Migration Jobs::migration(int version, std::string_view table) {
    const std::string name = detail::checked_jobs_table(std::string(table));
    return Migration{version, name + "_queue", detail::ddl(name)};
}

Task<> Jobs::create_table() {
    // One statement at a time: the pool's connections do not allow several in one query.
    const std::string both = detail::ddl(state_->table);
    const auto split = both.find(";\n");
    co_await state_->pool.query(both.substr(0, split));
    co_await state_->pool.query(both.substr(split + 2));
}

void Jobs::handle(std::string kind, std::function<Task<>(const Job&)> handler) {
    detail::check_job_kind(kind);
    if (!handler) throw std::invalid_argument("spur::mysql::Jobs::handle: empty handler");
    std::lock_guard lock(state_->mutex);
    if (state_->started) throw std::logic_error("spur::mysql::Jobs::handle: the workers have started");
    state_->handlers[std::move(kind)] = std::move(handler);
}

Task<std::uint64_t> Jobs::enqueue(Connection& connection, std::string kind, std::string payload, JobOptions options) {
    detail::check_job_kind(kind);
    if (payload.size() > state_->options.max_payload)
        throw std::invalid_argument("spur::mysql::Jobs::enqueue: the payload is larger than max_payload");
    if (options.delay.count() < 0) throw std::invalid_argument("spur::mysql::Jobs::enqueue: negative delay");
    const unsigned attempts = options.max_attempts ? options.max_attempts : state_->options.max_attempts;
    auto r = co_await connection.execute("INSERT INTO " + state_->table +
                                             " (kind, payload, priority, max_attempts, run_at, created_at) VALUES"
                                             " (?, ?, ?, ?, UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND, UTC_TIMESTAMP(3))",
                                         kind, Blob(std::move(payload)), options.priority, attempts, detail::micros(options.delay));
    co_return r.last_insert_id;
}

Task<std::uint64_t> Jobs::enqueue(std::string kind, std::string payload, JobOptions options) {
    auto lease = co_await state_->pool.acquire();
    co_return co_await enqueue(*lease, std::move(kind), std::move(payload), options);
}

Task<bool> Jobs::once(Connection& transaction, const Job& job, std::string_view effect) {
    if (effect.size() > 64) throw std::invalid_argument("spur::mysql::Jobs::once: an effect's name is at most 64 characters");
    try {
        co_await transaction.execute("INSERT INTO " + state_->effects_table + " (job_id, effect, created_at) VALUES (?, ?, UTC_TIMESTAMP(3))",
                                     job.id, effect);
    } catch (const Error& e) {
        // An earlier run committed this effect (InnoDB undoes only the statement: the caller's
        // transaction goes on).
        if (e.duplicate_key()) co_return false;
        throw;
    }
    co_return true;
}

Task<std::vector<JobInfo>> Jobs::list(std::optional<JobState> state, std::size_t limit) {
    std::string sql = "SELECT id, kind, state, priority, attempts, max_attempts, created_at, run_at, lease_until, finished_at,"
                      " owner, last_error FROM " + state_->table;
    if (state) sql += " WHERE state = '" + std::string(to_string(*state)) + "'";
    sql += " ORDER BY id DESC LIMIT " + std::to_string(std::min<std::size_t>(limit, 100'000));
    auto r = co_await state_->pool.execute(idempotent, sql);
    std::vector<JobInfo> jobs;
    jobs.reserve(r.size());
    for (const auto& row : r) {
        JobInfo j;
        j.id = row.get<std::uint64_t>("id");
        j.kind = row.get<std::string>("kind");
        j.state = detail::state_from(row.get<std::string_view>("state"));
        j.priority = row.get<int>("priority");
        j.attempts = row.get<unsigned>("attempts");
        j.max_attempts = row.get<unsigned>("max_attempts");
        j.created_at = row.get<DateTime>("created_at");
        j.run_at = row.get<DateTime>("run_at");
        j.lease_until = row.get<std::optional<DateTime>>("lease_until");
        j.finished_at = row.get<std::optional<DateTime>>("finished_at");
        j.owner = row.get<std::string>("owner");
        j.last_error = row.get<std::optional<std::string>>("last_error").value_or("");
        jobs.push_back(std::move(j));
    }
    co_return jobs;
}

Task<bool> Jobs::retry(std::uint64_t id) {
    auto r = co_await state_->pool.execute(idempotent,
                                           "UPDATE " + state_->table +
                                               " SET state = 'queued', attempts = 0, run_at = UTC_TIMESTAMP(3), finished_at = NULL,"
                                               " lease_until = NULL, claim = NULL WHERE id = ? AND state IN ('dead', 'queued')",
                                           id);
    co_return r.affected_rows == 1;
}

Task<std::uint64_t> Jobs::purge(std::chrono::seconds older_than, bool dead_too) {
    const std::string states = dead_too ? "('done', 'dead')" : "('done')";
    const std::string select = "SELECT id FROM " + state_->table + " WHERE state IN " + states +
                               " AND finished_at < UTC_TIMESTAMP(3) - INTERVAL ? SECOND ORDER BY finished_at LIMIT 500";
    std::uint64_t total = 0;
    for (;;) {
        // A batch at a time: short transactions, short locks, small Galera write sets.
        auto found = co_await state_->pool.execute(idempotent, select, static_cast<std::int64_t>(older_than.count()));
        if (found.empty()) co_return total;
        std::string ids;
        for (const auto& row : found) {
            if (!ids.empty()) ids += ',';
            ids += std::to_string(row.get<std::uint64_t>(0));
        }
        co_await state_->pool.query(idempotent, "DELETE FROM " + state_->effects_table + " WHERE job_id IN (" + ids + ")");
        auto r = co_await state_->pool.query(idempotent, "DELETE FROM " + state_->table + " WHERE id IN (" + ids + ") AND state IN " + states);
        total += r.affected_rows;
        if (found.size() < 500) co_return total;
    }
}

Task<JobCounts> Jobs::counts() { return detail::count_jobs(state_); }

Task<JobCounts> detail::count_jobs(std::shared_ptr<Jobs::State> state_) {
    JobCounts c;
    auto r = co_await state_->pool.query(idempotent, "SELECT state, COUNT(*) FROM " + state_->table + " GROUP BY state");
    for (const auto& row : r) {
        const auto n = row.get<std::uint64_t>(1);
        switch (detail::state_from(row.get<std::string_view>(0))) {
            case JobState::queued: c.queued = n; break;
            case JobState::running: c.running = n; break;
            case JobState::done: c.done = n; break;
            case JobState::dead: c.dead = n; break;
        }
    }
    auto oldest = co_await state_->pool.query(idempotent, "SELECT TIMESTAMPDIFF(MICROSECOND, MIN(run_at), UTC_TIMESTAMP(3)) FROM " +
                                                              state_->table + " WHERE state = 'queued' AND run_at <= UTC_TIMESTAMP(3)");
    if (!oldest.empty()) {
        if (auto us = oldest.front().get<std::optional<std::int64_t>>(0)) c.oldest_due_seconds = static_cast<double>(*us) / 1e6;
    }
    co_return c;
}

}  // namespace spur::mysql
