#pragma once
// One job on a worker of spur::mysql::Jobs (jobs_worker.cpp), as the workers' loop
// (jobs_lifecycle.cpp) calls it. Private to those two files.

#include "mysql/jobs_state.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace spur::mysql::detail {

using StatePtr = std::shared_ptr<Jobs::State>;

/// A job this instance holds: `claim` proves it in every later statement (WHERE claim = ?), so
/// an instance that lost its lease can never overwrite the outcome of the one that took the
/// job over.
struct Claimed {
    Job job;
    std::string claim;
};

/// Waits `d` on the strand; false when cancelled (drain or stop). Leaves the coroutine's
/// cancellation state clear, so that statements after it still run.
Task<bool> pause(std::chrono::milliseconds d);

/// Claims one due job, highest priority first, or one whose holder's lease has passed (it
/// crashed or was cut off); nullopt when there is none. Throws Error.
Task<std::optional<Claimed>> claim_one(StatePtr s);

/// Back to the queue, due now, the cut run not counted (a shutdown is not the job's failure).
/// Throws Error.
Task<> give_back(StatePtr s, Claimed c);

/// One claimed job, start to outcome: its handler under a renewed lease and within
/// JobsOptions::timeout, then done, retried, dead or given back. `w`'s phase says what a stop
/// may cut. Throws Error when recording the outcome fails (the lease then passes).
Task<> run(StatePtr s, JobWorker& w, Claimed c);

}  // namespace spur::mysql::detail
