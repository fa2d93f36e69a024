#include <spur/health/health.hpp>

#include <spur/app.hpp>
#include <spur/detail/response_access.hpp>
#include <boost/json/object.hpp>

#include "util/exception_message.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <fmt/core.h>

#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace spur {

namespace {
namespace net = boost::asio;

// "ok", "timeout" or "failed" (with the reason in `why`); the probe is cancelled at the deadline.
Task<std::string> probe(const ReadinessCheck& check, std::chrono::milliseconds timeout, std::string& why) {
    auto executor = co_await net::this_coro::executor;
    net::steady_timer deadline(executor, timeout);
    auto [order, failure, timer_ec] =
        co_await net::experimental::make_parallel_group(net::co_spawn(executor, check.probe(), net::deferred),
                                                        deadline.async_wait(net::deferred))
            .async_wait(net::experimental::wait_for_one(), net::use_awaitable);
    (void)timer_ec;
    if (order[0] == 1) co_return "timeout";
    if (failure) {
        why = detail::exception_message(failure);
        co_return "failed";
    }
    co_return "ok";
}
// One check's probe, shared by the requests that ask for it. The first request that finds no
// fresh outcome starts it in a coroutine of its own, bound to no request's cancellation: a client
// that leaves does not abort it (a database ping cut off mid-way used to cost a pooled connection
// and a KILL connection each — issue #31), and the requests arriving meanwhile wait for the same
// outcome instead of probing again. The outcome is then kept for cache_for.
class SharedProbe {
public:
    SharedProbe(std::shared_ptr<const ReadinessOptions> options, std::size_t index)
        : options_(std::move(options)), index_(index) {}

    // "ok", "timeout" or "failed" (why in `why`). Throws operation_aborted if the caller is
    // cancelled while it waits; the probe goes on.
    static Task<std::string> outcome(std::shared_ptr<SharedProbe> self, std::string& why) {
        auto executor = co_await net::this_coro::executor;
        auto timer = std::make_shared<net::steady_timer>(executor, self->options_->timeout);
        std::shared_ptr<Flight> flight;
        bool start = false;
        {
            std::lock_guard lock(self->mutex_);
            if (self->last_ && Clock::now() - self->last_at_ < self->options_->cache_for) {
                why = self->last_->why;
                co_return self->last_->outcome;
            }
            if (!self->flight_) {
                self->flight_ = std::make_shared<Flight>();
                start = true;
            }
            flight = self->flight_;
            flight->waiters.push_back(timer);
        }
        if (start) net::co_spawn(executor, fly(Landing(self, flight)), net::detached);
        boost::system::error_code ec;
        co_await timer->async_wait(net::redirect_error(net::use_awaitable, ec));
        std::lock_guard lock(self->mutex_);
        if (flight->result) {
            why = flight->result->why;
            co_return flight->result->outcome;
        }
        if (ec == net::error::operation_aborted) throw boost::system::system_error(ec);  // the caller left
        co_return "timeout";  // the probe ignores its own deadline's cancellation
    }

private:
    using Clock = std::chrono::steady_clock;
    struct Result {
        std::string outcome, why;
    };
    struct Flight {  // guarded by mutex_
        std::optional<Result> result;
        std::vector<std::weak_ptr<net::steady_timer>> waiters;
    };

    // A probe in flight lands whatever ends it — its end, or its coroutine destroyed before or
    // while it runs (its io_context gone) — or later requests would wait for it forever. A
    // parameter, because a guard declared in the body would not exist before the body starts.
    struct Landing {
        std::shared_ptr<SharedProbe> probe;
        std::shared_ptr<Flight> flight;
        Result result{"failed", "the probe was abandoned"};
        Landing(std::shared_ptr<SharedProbe> p, std::shared_ptr<Flight> f) noexcept
            : probe(std::move(p)), flight(std::move(f)) {}
        Landing(Landing&&) noexcept = default;
        Landing& operator=(Landing&&) = delete;
        ~Landing() {
            if (probe) probe->land(*flight, std::move(result));
        }
    };

    static Task<> fly(Landing landing) {
        const auto& options = *landing.probe->options_;
        std::string why;
        landing.result.outcome = co_await probe(options.checks[landing.probe->index_], options.timeout, why);
        landing.result.why = std::move(why);
    }

    void land(Flight& flight, Result result) {
        std::vector<std::weak_ptr<net::steady_timer>> waiters;
        {
            std::lock_guard lock(mutex_);
            flight.result = result;
            last_ = std::move(result);
            last_at_ = Clock::now();
            flight_.reset();
            waiters.swap(flight.waiters);
        }
        for (auto& w : waiters)
            if (auto timer = w.lock()) net::post(timer->get_executor(), [timer] { timer->cancel(); });
    }

    const std::shared_ptr<const ReadinessOptions> options_;
    const std::size_t index_;
    std::mutex mutex_;
    std::optional<Result> last_;
    Clock::time_point last_at_;
    std::shared_ptr<Flight> flight_;  // the probe running now, if any
};

// Absent checks are left out rather than written as null: probes and people read this.
boost::json::value to_value(const HealthReport& report) {
    boost::json::object out;
    out["status"] = report.status;
    if (report.checks) {
        boost::json::object checks;
        for (const auto& [name, outcome] : *report.checks) checks[name] = outcome;
        out["checks"] = std::move(checks);
    }
    return out;
}
}  // namespace

Handler liveness() {
    // The same bytes every time: written, not built as a JSON value and serialised per probe.
    return [](Request&, Response& res) {
        detail::ResponseAccess::replace(res, boost::beast::http::field::cache_control, "Cache-Control", "no-store");
        detail::ResponseAccess::replace(res, boost::beast::http::field::content_type, "Content-Type", "application/json");
        res.send(std::string_view(R"({"status":"ok"})"));
    };
}

Handler readiness(ReadinessOptions options) {
    if (options.timeout.count() <= 0) throw std::invalid_argument("readiness: the timeout must be positive");
    if (options.cache_for.count() < 0) throw std::invalid_argument("readiness: cache_for must not be negative");
    for (const auto& check : options.checks)
        if (!check.probe) throw std::invalid_argument("readiness: check '" + check.name + "' has no probe");
    auto shared = std::make_shared<const ReadinessOptions>(std::move(options));
    std::vector<std::shared_ptr<SharedProbe>> probes;
    for (std::size_t i = 0; i < shared->checks.size(); ++i) probes.push_back(std::make_shared<SharedProbe>(shared, i));
    return [shared, probes](Request& req, Response& res) -> Task<> {
        res.set("Cache-Control", "no-store");
        const App& app = shared->follow ? *shared->follow : req.app();
        HealthReport report{"ready", std::nullopt};
        if (app.extensions().draining()) {
            report.status = "draining";
            res.status(503).json(to_value(report));
            co_return;
        }
        bool ready = true;
        if (!shared->checks.empty()) report.checks.emplace();
        for (std::size_t i = 0; i < shared->checks.size(); ++i) {
            const auto& check = shared->checks[i];
            std::string why;
            std::string outcome = co_await SharedProbe::outcome(probes[i], why);
            if (outcome != "ok") {
                ready = false;
                req.app().log()(LogLevel::warn, fmt::format("readiness check '{}' {}{}{}", check.name, outcome,
                                                            why.empty() ? "" : ": ", why));
            }
            (*report.checks)[check.name] = std::move(outcome);
        }
        if (!ready) report.status = "unavailable";
        res.status(ready ? 200 : 503).json(to_value(report));
    };
}

}  // namespace spur
