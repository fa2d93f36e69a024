// spur::mysql::Jobs: one job on this instance's worker — claiming a due job, running its handler
// under a renewed lease and within its timeout, recording the outcome. The workers' loop and
// lifecycle are in jobs_lifecycle.cpp.
#include "mysql/jobs_run.hpp"

#include <spur/mysql/error.hpp>
#include <spur/random.hpp>

#include "util/exception_message.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/core.h>

#include <algorithm>

namespace spur::mysql::detail {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

Task<bool> pause(std::chrono::milliseconds d) {
    net::steady_timer timer(co_await net::this_coro::executor, d);
    boost::system::error_code ec;
    co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
    co_await net::this_coro::reset_cancellation_state();
    co_return !ec;
}

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

namespace {

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

}  // namespace

Task<> give_back(StatePtr s, Claimed c) {
    co_await s->pool.execute(idempotent, "UPDATE " + s->table +
                                             " SET state = 'queued', run_at = UTC_TIMESTAMP(3), attempts = GREATEST(attempts, 1) - 1,"
                                             " lease_until = NULL, claim = NULL WHERE id = ? AND claim = ?",
                             c.job.id, c.claim);
}

namespace {

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

}  // namespace

// Only the handler's run may be cut by a stop (phase running); the statements recording the
// outcome are not (phase finishing): a cut one would leave a finished job running until its
// lease passes, and then run it again.
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

}  // namespace spur::mysql::detail
