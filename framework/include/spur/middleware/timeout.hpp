#pragma once
// spur::middleware::timeout — a deadline for the rest of the chain.

#include <spur/handler.hpp>

#include <chrono>
#include <optional>

namespace spur::middleware {

/// Gives everything after it (usually: one route's handler) `limit` to finish. At the
/// deadline the rest of the chain is cancelled — its pending timer, socket or database
/// wait throws operation_aborted and unwinds, so nothing keeps running against the request —
/// and the answer is `status` (503 by default, or 504) with code "timeout".
/// Work that cannot be interrupted (a blocking call inside spur::offload) is waited for:
/// the error answer then goes out when that work returns.
Middleware timeout(std::chrono::milliseconds limit, int status = 503);

/// When the timeout() around the current handler ends its work (the earliest, when several are
/// nested), or nullopt without one. What spur::call_from() derives a call's deadline from.
std::optional<std::chrono::steady_clock::time_point> deadline_of(const Request& req);

}  // namespace spur::middleware
