// spur::mysql::Jobs: this instance's workers — claiming due jobs, running their handlers under a
// renewed lease, recording the outcome — and their lifecycle (start, drain, stop, serve).
#include "mysql/jobs_state.hpp"

#include <spur/app.hpp>
#include <spur/extension.hpp>
#include <spur/mysql/error.hpp>
#include <spur/random.hpp>

#include "util/exception_message.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/core.h>

#include <algorithm>

namespace spur::mysql {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

// A job this instance holds: `claim` proves it in every later statement (WHERE claim = ?), so an
// instance that lost its lease can never overwrite the outcome of the one that took the job over.
struct Claimed {
    Job job;
    std::string claim;
};

using StatePtr = std::shared_ptr<Jobs::State>;

// Waits `d` on the strand; false when cancelled (drain or stop). Leaves the coroutine's
// cancellation state clear, so that statements after it still run.
Task<bool> pause(std::chrono::milliseconds d) {
    net::steady_timer timer(co_await net::this_coro::executor, d);
    boost::system::error_code ec;
    co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
    co_await net::this_coro::reset_cancellation_state();
    co_return !ec;
}

// Claims one due job, or one whose holder's lease has passed (it crashed or was cut off).
// Candidates are read first, then taken with a compare-and-set UPDATE: of several instances
// (or several Galera nodes) after one job, one UPDATE matches; the others match nothing, or
// lose certification (1213), and try the next candidate.
Task<std::optional<Claimed>> claim_one(StatePtr s) {
    const auto& t = s->table;
    auto due = co_await s->pool.query(idempotent, "SELECT id, priority FROM " + t +
                                                      " WHERE state = 'queued' AND run_at <= UTC_TIMESTAMP(3)"
                                                      " ORDER BY priority DESC, run_at, id LIMIT 8");
    std::vector<std::uint64_t> ids;
    std::size_t top = 0;  // how many candidates share the highest priority
    for (const auto& row : due) {
        ids.push_back(row.get<std::uint64_t>(0));
        if (row.get<std::int64_t>(1) == due.front().get<std::int64_t>(1)) ++top;
    }
    if (ids.empty()) {
        auto expired = co_await s->pool.query(idempotent, "SELECT id FROM " + t +
                                                              " WHERE state = 'running' AND lease_until < UTC_TIMESTAMP(3) LIMIT 8");
        for (const auto& row : expired) ids.push_back(row.get<std::uint64_t>(0));
        top = ids.size();
    }
    if (ids.empty()) co_return std::nullopt;
    // A random first pick among the most urgent candidates, then the others in order: a
    // higher priority always goes first, and workers after the same few jobs spread out.
    const std::size_t first = std::uniform_int_distribution<std::size_t>(0, top - 1)(s->random);
    std::rotate(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(first), ids.begin() + static_cast<std::ptrdiff_t>(top));
    const std::string take = "UPDATE " + t +
                             " SET state = 'running', claim = ?, owner = ?, attempts = attempts + 1,"
                             " lease_until = UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND"
                             " WHERE id = ? AND ((state = 'queued' AND run_at <= UTC_TIMESTAMP(3))"
                             " OR (state = 'running' AND lease_until < UTC_TIMESTAMP(3)))";
    for (const auto id : ids) {
        const std::string claim = random_token(16).substr(0, 32);
        Result r;
        try {
            // Not marked idempotent: were it run again after a lost connection, the first run
            // may have claimed the job; the claim is then simply lost and the lease expires.
            r = co_await s->pool.execute(take, claim, s->options.owner, detail::micros(s->options.lease), id);
        } catch (const Error& e) {
            if (!e.transaction_conflict()) throw;
            continue;  // another node's claim won
        }
        if (r.affected_rows != 1) continue;
        auto row = co_await s->pool.execute(idempotent, "SELECT kind, payload, attempts, max_attempts FROM " + t + " WHERE id = ? AND claim = ?",
                                            id, claim);
        if (row.empty()) continue;
        Claimed c;
        c.job.id = id;
        c.job.kind = row.front().get<std::string>(0);
        c.job.payload = row.front().get<std::string>(1);
        c.job.attempt = row.front().get<unsigned>(2);
        c.job.max_attempts = row.front().get<unsigned>(3);
        c.claim = claim;
        co_return c;
    }
    co_return std::nullopt;
}

// The outcomes. Each matches the claim, so it is safe to run twice (idempotent): after the
// lease passed and another instance took the job over, it changes nothing.
Task<bool> mark_done(StatePtr s, Claimed c) {
    auto r = co_await s->pool.execute(idempotent, "UPDATE " + s->table +
                                                      " SET state = 'done', finished_at = UTC_TIMESTAMP(3), lease_until = NULL, claim = NULL"
                                                      " WHERE id = ? AND claim = ?",
                                      c.job.id, c.claim);
    co_return r.affected_rows == 1;
}

Task<bool> mark_failed(StatePtr s, Claimed c, std::string error, bool permanent) {
    if (error.size() > 2000) error.resize(2000);
    Result r;
    if (permanent || c.job.attempt >= c.job.max_attempts) {
        r = co_await s->pool.execute(idempotent, "UPDATE " + s->table +
                                                     " SET state = 'dead', finished_at = UTC_TIMESTAMP(3), last_error = ?,"
                                                     " lease_until = NULL, claim = NULL WHERE id = ? AND claim = ?",
                                     error, c.job.id, c.claim);
        if (r.affected_rows == 1) s->count(s->dead_total, c.job.kind);
    } else {
        const auto wait = s->backoff_after(c.job.attempt);
        r = co_await s->pool.execute(idempotent, "UPDATE " + s->table +
                                                     " SET state = 'queued', run_at = UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND,"
                                                     " last_error = ?, lease_until = NULL, claim = NULL WHERE id = ? AND claim = ?",
                                     detail::micros(wait), error, c.job.id, c.claim);
        if (r.affected_rows == 1) s->count(s->retried_total, c.job.kind);
    }
    co_return r.affected_rows == 1;
}

// Back to the queue, due now, the cut run not counted (a shutdown is not the job's failure).
Task<> give_back(StatePtr s, Claimed c) {
    co_await s->pool.execute(idempotent, "UPDATE " + s->table +
                                             " SET state = 'queued', run_at = UTC_TIMESTAMP(3), attempts = GREATEST(attempts, 1) - 1,"
                                             " lease_until = NULL, claim = NULL WHERE id = ? AND claim = ?",
                             c.job.id, c.claim);
}

Task<> call_handler(JobHandler handler, Job job) { co_await handler(job); }

// Renews the lease every lease/3 while the handler runs; returns only when the claim is lost —
// the row is no longer ours, or no renewal succeeded before the lease would have passed — and
// the handler is then cancelled (another instance may run the job now).
Task<> keep_lease(StatePtr s, Claimed c) {
    const auto lease = s->options.lease;
    auto valid_until = Clock::now() + lease;
    for (;;) {
        const auto next = std::min(lease / 3, std::chrono::duration_cast<std::chrono::milliseconds>(valid_until - Clock::now()));
        net::steady_timer timer(co_await net::this_coro::executor, std::max(next, std::chrono::milliseconds(0)));
        co_await timer.async_wait(net::use_awaitable);  // throws when the handler ended first
        if (Clock::now() >= valid_until) co_return;
        const auto asked = Clock::now();
        try {
            auto r = co_await s->pool.execute(idempotent,
                                              "UPDATE " + s->table + " SET lease_until = UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND"
                                                                     " WHERE id = ? AND claim = ?",
                                              detail::micros(lease), c.job.id, c.claim);
            if (r.affected_rows != 1) co_return;
            valid_until = asked + lease;
        } catch (const Error&) {
            // The database is unreachable for now: keep trying until the lease would have passed.
        }
    }
}

// Completes when a run has taken `limit` (JobsOptions::timeout); throws when cancelled (the
// handler ended first).
Task<> deadline(std::chrono::milliseconds limit) {
    net::steady_timer timer(co_await net::this_coro::executor, limit);
    co_await timer.async_wait(net::use_awaitable);
}

void log_job(const StatePtr& s, LogLevel level, const Claimed& c, std::string_view what) {
    s->log(level, fmt::format("job {} ({}, attempt {}/{}): {}", c.job.id, c.job.kind, c.job.attempt, c.job.max_attempts, what));
}

// One claimed job, start to outcome. Only the handler's run may be cut by a stop (phase
// running); the statements recording the outcome are not (phase finishing): a cut one would
// leave a finished job running until its lease passes, and then run it again.
Task<> run(StatePtr s, JobWorker& w, Claimed c) {
    auto handler = s->handler(c.job.kind);
    if (!handler) {
        co_await mark_failed(s, c, "no handler for the kind \"" + c.job.kind + "\" on " + s->options.owner, true);
        log_job(s, LogLevel::error, c, "dead: no handler for its kind on this instance");
        co_return;
    }
    if (c.job.attempt > c.job.max_attempts) {  // its last run never ended: the instance died
        co_await mark_failed(s, c, "its last run ended without an outcome (the instance running it stopped)", true);
        log_job(s, LogLevel::error, c, "dead: its last run ended without an outcome");
        co_return;
    }
    auto executor = co_await net::this_coro::executor;
    w.phase = JobWorker::Phase::running;
    auto [order, handler_error, lease_error, deadline_error] =
        co_await net::experimental::make_parallel_group(net::co_spawn(executor, call_handler(handler, c.job), net::deferred),
                                                        net::co_spawn(executor, keep_lease(s, c), net::deferred),
                                                        net::co_spawn(executor, deadline(s->options.timeout), net::deferred))
            .async_wait(net::experimental::wait_for_one(), net::use_awaitable);
    w.phase = JobWorker::Phase::finishing;
    co_await net::this_coro::reset_cancellation_state();
    if (order[0] == 2 && !deadline_error && !s->stopping) {  // the handler ran too long and was cancelled: a failed run
        const std::string error = fmt::format("timed out after {} ms", s->options.timeout.count());
        const bool dead = c.job.attempt >= c.job.max_attempts;
        co_await mark_failed(s, c, error, false);
        log_job(s, dead ? LogLevel::error : LogLevel::warn, c, (dead ? "dead: " : "failed, will retry: ") + error);
        co_return;
    }
    if (order[0] != 0) {  // the handler was cancelled: because of the lease, or by the shutdown
        if (s->stopping || lease_error || deadline_error) {
            co_await give_back(s, c);
            log_job(s, LogLevel::info, c, s->stopping ? "cut short by the shutdown: back in the queue"
                                                      : "cut short (keeping its lease failed): back in the queue");
        } else {
            log_job(s, LogLevel::warn, c, "lost its lease (the database was out of reach); another instance may run it");
        }
        co_return;
    }
    if (s->stopping && handler_error) {
        co_await give_back(s, c);
        log_job(s, LogLevel::info, c, "cut short by the shutdown: back in the queue");
        co_return;
    }
    if (!handler_error) {
        if (co_await mark_done(s, c)) s->count(s->done_total, c.job.kind);
        co_return;
    }
    bool permanent = false;
    try {
        std::rethrow_exception(handler_error);
    } catch (const PermanentJobError&) {
        permanent = true;
    } catch (...) {
    }
    const std::string error = spur::detail::exception_message(handler_error);
    const bool dead = permanent || c.job.attempt >= c.job.max_attempts;
    co_await mark_failed(s, c, error, permanent);
    log_job(s, dead ? LogLevel::error : LogLevel::warn, c, (dead ? "dead: " : "failed, will retry: ") + error);
}

void ended(const StatePtr& s, JobWorker& w) {
    w.phase = JobWorker::Phase::ended;
    if (--s->live == 0 && s->all_ended) s->all_ended->cancel();
}

// A failed look for due jobs: logged the first time, then at most once a minute with the
// count, so that a database outage does not write a line per worker per poll.
void claim_failed(const StatePtr& s, std::string_view error) {
    const auto now = Clock::now();
    ++s->claim_failures;
    if (s->claim_failures > 1 && now - s->failure_logged < std::chrono::minutes(1)) {
        ++s->failures_unlogged;
        return;
    }
    s->log(LogLevel::warn, s->claim_failures == 1 ? fmt::format("jobs: looking for due jobs failed: {}", error)
                                                  : fmt::format("jobs: looking for due jobs still fails ({} more times since the last line): {}",
                                                                s->failures_unlogged + 1, error));
    s->failure_logged = now;
    s->failures_unlogged = 0;
}

void claim_succeeded(const StatePtr& s) {
    if (s->claim_failures == 0) return;
    s->log(LogLevel::info, fmt::format("jobs: looking for due jobs works again, after {} failed looks", s->claim_failures));
    s->claim_failures = 0;
    s->failures_unlogged = 0;
}

Task<> work(StatePtr s, std::shared_ptr<JobWorker> w) {
    while (!s->draining && !s->stopping) {
        w->phase = JobWorker::Phase::claiming;
        std::optional<Claimed> claimed;
        try {
            claimed = co_await claim_one(s);
            claim_succeeded(s);
        } catch (const std::exception& e) {
            claim_failed(s, e.what());
        }
        co_await net::this_coro::reset_cancellation_state();
        if (claimed && (s->draining || s->stopping)) {
            // Claimed as the drain began: another instance (or the next start) runs it.
            try {
                co_await give_back(s, *claimed);
            } catch (const std::exception&) {
                // Its lease passes by itself.
            }
            break;
        }
        if (!claimed) {
            w->phase = JobWorker::Phase::idle;
            if (!co_await pause(s->options.poll)) break;
            continue;
        }
        w->phase = JobWorker::Phase::finishing;
        try {
            co_await run(s, *w, std::move(*claimed));
        } catch (const std::exception& e) {
            // Recording the outcome failed: the lease passes and the job runs again.
            s->log(LogLevel::warn, fmt::format("jobs: recording a job's outcome failed: {}", e.what()));
        }
        co_await net::this_coro::reset_cancellation_state();
    }
    ended(s, *w);
}

// Reads the table's counts into the gauges while the workers run.
Task<> read_gauges(StatePtr s, std::shared_ptr<JobWorker> w) {
    while (!s->draining && !s->stopping) {
        try {
            const JobCounts c = co_await detail::count_jobs(s);
            s->queued->set(static_cast<double>(c.queued));
            s->running->set(static_cast<double>(c.running));
            s->dead->set(static_cast<double>(c.dead));
            s->oldest_due->set(c.oldest_due_seconds);
        } catch (const std::exception&) {
            // The next reading may succeed; the gauges keep their last values meanwhile.
        }
        co_await net::this_coro::reset_cancellation_state();
        w->phase = JobWorker::Phase::idle;
        if (!co_await pause(s->options.gauge_interval)) break;
    }
    ended(s, *w);
}

// Cancels the workers that wait or run a handler (one claiming or recording finishes that first).
void interrupt(const StatePtr& s, bool running_too) {
    for (auto& w : s->workers)
        if (w->phase == JobWorker::Phase::idle || (running_too && w->phase == JobWorker::Phase::running))
            w->signal.emit(net::cancellation_type::terminal);
}

// The App's side: one extension holds every Jobs the app serves.
class JobsExtension : public Extension {
public:
    void add(Jobs& jobs) { served_.push_back(&jobs); }
    void start(const net::any_io_executor& executor) override {
        executor_ = executor;
        for (auto* j : served_) j->start(executor);
    }
    void drain() noexcept override {
        for (auto* j : served_) j->drain();
    }
    void stop(std::function<void()> done) override {
        if (!executor_ || served_.empty()) return done();
        auto left = std::make_shared<std::atomic<std::size_t>>(served_.size());
        auto finished = std::make_shared<std::function<void()>>(std::move(done));
        for (auto* j : served_)
            net::co_spawn(*executor_, j->stop(), [left, finished](std::exception_ptr) {
                if (--*left == 0) (*finished)();
            });
    }

private:
    std::vector<Jobs*> served_;
    std::optional<net::any_io_executor> executor_;
};

}  // namespace

void Jobs::start(const net::any_io_executor& executor) {
    {
        std::lock_guard lock(state_->mutex);
        if (state_->started) throw std::logic_error("spur::mysql::Jobs: started twice");
        state_->started = true;
    }
    auto s = state_;
    s->strand.emplace(net::make_strand(executor));
    net::post(*s->strand, [s] {
        s->all_ended.emplace(*s->strand, Clock::time_point::max());
        auto launch = [&](Task<> work_task, std::shared_ptr<JobWorker> w) {
            s->workers.push_back(w);
            ++s->live;
            net::co_spawn(*s->strand, std::move(work_task), net::bind_cancellation_slot(w->signal.slot(), net::detached));
        };
        for (unsigned i = 0; i < s->options.concurrency; ++i) {
            auto w = std::make_shared<JobWorker>();
            launch(work(s, w), w);
        }
        if (s->queued) {
            auto w = std::make_shared<JobWorker>();
            launch(read_gauges(s, w), w);
        }
    });
}

void Jobs::drain() noexcept {
    auto s = state_;
    if (!s->strand) return;
    net::post(*s->strand, [s] {
        s->draining = true;
        interrupt(s, false);
    });
}

Task<> Jobs::stop() {
    auto s = state_;
    if (!s->strand) co_return;
    co_await net::post(*s->strand, net::use_awaitable);
    s->draining = s->stopping = true;
    interrupt(s, true);
    while (s->live > 0) {
        boost::system::error_code ec;
        s->all_ended->expires_at(Clock::time_point::max());
        co_await s->all_ended->async_wait(net::redirect_error(net::use_awaitable, ec));
    }
}

void Jobs::serve(App& app) {
    {
        std::lock_guard lock(state_->mutex);
        if (state_->served) throw std::logic_error("spur::mysql::Jobs::serve: called twice");
        state_->served = true;
    }
    state_->log = app.log();
    app.extensions().emplace<JobsExtension>().add(*this);
}

void Jobs::collect_metrics(MetricsRegistry& registry) {
    auto& s = *state_;
    s.done_total = &registry.counter("jobs_done_total", "Jobs this instance ran to completion", {"kind"});
    s.retried_total = &registry.counter("jobs_retried_total", "Job runs that failed and were queued again", {"kind"});
    s.dead_total = &registry.counter("jobs_dead_total", "Jobs that failed for good on this instance", {"kind"});
    s.queued = &registry.gauge("jobs_queued", "Jobs waiting in the table, due or not (every instance's)").get();
    s.running = &registry.gauge("jobs_running", "Jobs some instance holds a lease on").get();
    s.dead = &registry.gauge("jobs_dead", "Jobs that failed for good and wait for an operator (retry or purge)").get();
    s.oldest_due = &registry.gauge("jobs_oldest_due_seconds", "How long the oldest due job has waited").get();
}

}  // namespace spur::mysql
