#pragma once
// spur::middleware::RateLimiter and rate_limit() — token buckets per client, in memory.

#include <spur/handler.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace spur::middleware {

/// The bucket a client address counts under: an IPv4 address as it is, an IPv6 address by
/// its /64 (one subscriber's allocation, which a client can otherwise walk through for fresh
/// buckets). Text that is not an address comes back unchanged.
std::string client_key(std::string_view ip);

/// Options of RateLimiter and rate_limit().
struct RateLimitOptions {
    double burst = 60;       ///< bucket size: requests allowed at once
    double per_second = 1;   ///< refill rate: sustained requests per second
    /// Which bucket a request takes from; default: client_key(req.ip()). An empty key is not limited.
    std::function<std::string(const Request&)> key;
    std::size_t max_keys = 100'000;  ///< memory bound: beyond it, idle and then oldest keys are dropped
    bool headers = true;             ///< send RateLimit-Limit / -Remaining / -Reset
    /// The clock; replaceable for tests.
    std::function<std::chrono::steady_clock::time_point()> now;
};

/// A thread-safe set of token buckets (sharded, so I/O threads rarely contend).
class RateLimiter {
public:
    /// The outcome of one take().
    struct Decision {
        bool allowed;
        double remaining;          ///< whole tokens left after this request
        std::chrono::seconds retry_after;  ///< when the next request would be allowed (if refused)
        std::chrono::seconds reset;        ///< until the bucket is full again
    };

    explicit RateLimiter(RateLimitOptions options);
    ~RateLimiter();

    /// Takes one token from `key`'s bucket.
    Decision take(std::string_view key);
    /// How many keys are tracked now (bounded by max_keys).
    std::size_t size() const;
    const RateLimitOptions& options() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Answers 429 `too_many_requests` with Retry-After once a client's bucket is empty, and adds
/// RateLimit-* headers to every response it limits.
Middleware rate_limit(RateLimitOptions options = {});

}  // namespace spur::middleware
