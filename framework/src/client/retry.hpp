#pragma once
// The retry decisions of a call: whether a request may go again, which failures and statuses
// are worth it, and how long to wait.

#include <spur/http_client.hpp>

#include <chrono>
#include <optional>
#include <string_view>

namespace spur::client {

// Whether repeating the request cannot repeat its effect: an idempotent method, or an
// Idempotency-Key header (the server then recognises the repeat).
bool may_repeat(std::string_view method, const ClientHeaders& headers);

// Whether a failed attempt is worth another: no connection, an attempt's timeout, or a
// connection lost before the response's header was complete.
bool retryable_failure(HttpClientError::Kind kind) noexcept;

bool retryable_status(const RetryPolicy& policy, int status) noexcept;

// The wait after attempt `attempt` (1-based) failed: initial_backoff doubled per attempt up to
// max_backoff, drawn between half of that and all of it.
std::chrono::milliseconds backoff(const RetryPolicy& policy, int attempt);

// A Retry-After value (delta-seconds or an IMF-fixdate) as a wait from now; nullopt when it
// is neither. A date in the past is a wait of zero.
std::optional<std::chrono::milliseconds> retry_after(std::string_view value);

}  // namespace spur::client
