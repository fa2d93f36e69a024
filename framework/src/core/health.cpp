#include <spur/health.hpp>

#include <spur/app.hpp>
#include <boost/json/object.hpp>

#include "core/finish.hpp"
#include "util/exception_message.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/core.h>

#include <memory>
#include <stdexcept>

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
    return [](Request&, Response& res) { res.set("Cache-Control", "no-store").json(boost::json::object{{"status", "ok"}}); };
}

Handler readiness(ReadinessOptions options) {
    if (options.timeout.count() <= 0) throw std::invalid_argument("readiness: the timeout must be positive");
    for (const auto& check : options.checks)
        if (!check.probe) throw std::invalid_argument("readiness: check '" + check.name + "' has no probe");
    auto shared = std::make_shared<const ReadinessOptions>(std::move(options));
    return [shared](Request& req, Response& res) -> Task<> {
        res.set("Cache-Control", "no-store");
        const App& app = shared->follow ? *shared->follow : req.app();
        HealthReport report{"ready", std::nullopt};
        if (app.draining()) {
            report.status = "draining";
            res.status(503).json(to_value(report));
            co_return;
        }
        bool ready = true;
        if (!shared->checks.empty()) report.checks.emplace();
        for (const auto& check : shared->checks) {
            std::string why;
            std::string outcome = co_await probe(check, shared->timeout, why);
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
