#pragma once
// `spur-app jobs …`: the operator's view of the durable job queue (spur::mysql::Jobs).

#include <spur/mysql/config.hpp>

#include <string>
#include <vector>

namespace app::jobs {

/// Runs `spur-app jobs ARGS` on a private short-lived loop and returns the exit status:
///   list [queued|running|done|dead]  the newest 100 jobs (of that state), one per line
///   retry ID                          a dead (or queued) job due now, attempts reset
///   purge [DAYS]                      deletes done and dead jobs finished over DAYS (7) ago
/// Prints to stdout; usage errors and database errors to stderr (status 2 and 1).
int command(const spur::mysql::Config& db, const std::vector<std::string>& args);

}  // namespace app::jobs
