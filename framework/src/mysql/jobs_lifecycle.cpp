// spur::mysql::Jobs: this instance's workers — the loop that claims and runs jobs, the gauge
// reader — and their lifecycle (start, drain, stop, serve). One job's run is jobs_worker.cpp.
#include "mysql/jobs_run.hpp"

#include <spur/app.hpp>
#include <spur/extension.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/core.h>

#include <atomic>

namespace spur::mysql {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;
using detail::Claimed;
using detail::StatePtr;

namespace {

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
            claimed = co_await detail::claim_one(s);
            claim_succeeded(s);
        } catch (const std::exception& e) {
            claim_failed(s, e.what());
        }
        co_await net::this_coro::reset_cancellation_state();
        if (claimed && (s->draining || s->stopping)) {
            // Claimed as the drain began: another instance (or the next start) runs it.
            try {
                co_await detail::give_back(s, *claimed);
            } catch (const std::exception&) {
                // Its lease passes by itself.
            }
            break;
        }
        if (!claimed) {
            w->phase = JobWorker::Phase::idle;
            if (!co_await detail::pause(s->options.poll)) break;
            continue;
        }
        w->phase = JobWorker::Phase::finishing;
        try {
            co_await detail::run(s, *w, std::move(*claimed));
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
        if (!co_await detail::pause(s->options.gauge_interval)) break;
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

// The workers' strand while they may run (start to the end of stop), read under the lock: drain()
// and stop() may come from other threads than start().
std::optional<net::strand<net::any_io_executor>> strand_of(Jobs::State& s) {
    std::lock_guard lock(s.mutex);
    return s.strand;
}

}  // namespace

void Jobs::start(const net::any_io_executor& executor) {
    auto s = state_;
    {
        std::lock_guard lock(s->mutex);
        if (s->started) throw std::logic_error("spur::mysql::Jobs: started twice");
        s->started = true;
        s->strand.emplace(net::make_strand(executor));
    }
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
    const auto strand = strand_of(*s);
    if (!strand) return;
    net::post(*strand, [s] {
        s->draining = true;
        interrupt(s, false);
    });
}

Task<> Jobs::stop() {
    auto s = state_;
    const auto strand = strand_of(*s);
    if (!strand) co_return;
    co_await net::post(*strand, net::use_awaitable);
    s->draining = s->stopping = true;
    interrupt(s, true);
    while (s->live > 0) {
        boost::system::error_code ec;
        s->all_ended->expires_at(Clock::time_point::max());
        co_await s->all_ended->async_wait(net::redirect_error(net::use_awaitable, ec));
    }
    // Nothing of the executor's stays behind: the Jobs may outlive the io_context (as an
    // Extension's state must). The coroutine runs on its own copy of the strand.
    s->all_ended.reset();
    s->workers.clear();
    std::lock_guard lock(s->mutex);
    s->strand.reset();
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
