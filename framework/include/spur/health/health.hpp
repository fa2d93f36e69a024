#pragma once
// spur::liveness and spur::readiness — the /healthz and /readyz handlers a load balancer or
// an orchestrator probes; readiness turns 503 the moment the app begins to drain.

#include <spur/handler.hpp>

#include <boost/describe/class.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace spur {

class App;

/// What both handlers answer: {"status":"ok"} from liveness; from readiness "ready" (200),
/// "draining" or "unavailable" (503), with each check's outcome ("ok", "failed", "timeout").
struct HealthReport {
    std::string status{};
    std::optional<std::map<std::string, std::string>> checks{};
};
BOOST_DESCRIBE_STRUCT(HealthReport, (), (status, checks))

/// One dependency readiness waits for: `probe` completes when it answers and throws when it
/// does not (e.g. a `SELECT 1` on the database pool).
struct ReadinessCheck {
    std::string name{};
    std::function<Task<>()> probe{};
};

/// Settings of readiness().
struct ReadinessOptions {
    std::vector<ReadinessCheck> checks{};        ///< run one after another, each bounded by timeout
    std::chrono::milliseconds timeout{2000};     ///< a probe slower than this counts as failed (and is cancelled)
    /// How long a check's outcome is reused: each check is probed at most once per cache_for,
    /// however many requests ask. A probe, once started, runs to its end (or its timeout) even
    /// if every request waiting for it leaves; requests arriving meanwhile share it. 0: each
    /// request that finds no probe running starts one.
    std::chrono::milliseconds cache_for{1000};
    /// Whose drain to report: the app serving the probe when null; set it when the probe is
    /// served by another app (an admin listener) than the one that drains.
    const App* follow = nullptr;
};

/// 200 {"status":"ok"} while the process can answer at all (liveness: restart me if not).
Handler liveness();

/// 200 {"status":"ready",...} when every check passes; 503 "draining" once the app began to
/// drain (checks are then skipped), 503 "unavailable" when a check fails or times out — the
/// reason is logged, never sent. Answers carry Cache-Control: no-store. Outcomes are shared and
/// cached (ReadinessOptions::cache_for), so a flood of probes costs one probe per check per
/// second, and a client that leaves never aborts one. Throws std::invalid_argument for a check
/// without a probe, a non-positive timeout or a negative cache_for.
Handler readiness(ReadinessOptions options = {});

}  // namespace spur
