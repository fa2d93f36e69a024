#include <spur/middleware/rate_limit.hpp>

#include "util/ip.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace spur::middleware {

namespace {
using Clock = std::chrono::steady_clock;
constexpr std::size_t shard_count = 16;

struct Bucket {
    double tokens;
    Clock::time_point last;
};

struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, Bucket> buckets;
};

std::chrono::seconds ceil_seconds(double s) {
    return std::chrono::seconds(static_cast<long long>(std::ceil(std::max(0.0, s))));
}
}  // namespace

std::string client_key(std::string_view ip) { return detail::client_key(ip); }

struct RateLimiter::Impl {
    RateLimitOptions options;
    std::size_t per_shard_limit;
    std::array<Shard, shard_count> shards;

    // Drops buckets that have refilled completely (they hold no information), then the
    // least recently used ones, until the shard is back under 90% of its limit.
    void evict(Shard& shard, Clock::time_point now) {
        const double full_after = options.burst / options.per_second;
        std::erase_if(shard.buckets, [&](const auto& entry) {
            return std::chrono::duration<double>(now - entry.second.last).count() >= full_after;
        });
        const std::size_t target = per_shard_limit - per_shard_limit / 10;
        while (shard.buckets.size() > target) {
            auto oldest = std::min_element(shard.buckets.begin(), shard.buckets.end(),
                                           [](const auto& a, const auto& b) { return a.second.last < b.second.last; });
            shard.buckets.erase(oldest);
        }
    }
};

RateLimiter::RateLimiter(RateLimitOptions options) : impl_(std::make_unique<Impl>()) {
    if (options.burst < 1 || options.per_second <= 0) throw std::invalid_argument("rate limit needs burst >= 1 and per_second > 0");
    if (!options.now) options.now = [] { return Clock::now(); };
    impl_->per_shard_limit = std::max<std::size_t>(1, options.max_keys / shard_count);
    impl_->options = std::move(options);
}

RateLimiter::~RateLimiter() = default;

const RateLimitOptions& RateLimiter::options() const noexcept { return impl_->options; }

RateLimiter::Decision RateLimiter::take(std::string_view key) {
    const auto& o = impl_->options;
    const auto now = o.now();
    Shard& shard = impl_->shards[std::hash<std::string_view>{}(key) % shard_count];
    std::lock_guard lock(shard.mutex);
    auto it = shard.buckets.find(std::string(key));
    if (it == shard.buckets.end()) {
        if (shard.buckets.size() >= impl_->per_shard_limit) impl_->evict(shard, now);
        it = shard.buckets.emplace(std::string(key), Bucket{o.burst, now}).first;
    }
    Bucket& b = it->second;
    const double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(o.burst, b.tokens + elapsed * o.per_second);
    b.last = now;
    Decision d{};
    if (b.tokens >= 1) {
        b.tokens -= 1;
        d.allowed = true;
        d.retry_after = std::chrono::seconds(0);
    } else {
        d.allowed = false;
        d.retry_after = ceil_seconds((1 - b.tokens) / o.per_second);
    }
    d.remaining = std::floor(b.tokens);
    d.reset = ceil_seconds((o.burst - b.tokens) / o.per_second);
    return d;
}

std::size_t RateLimiter::size() const {
    std::size_t n = 0;
    for (auto& shard : impl_->shards) {
        std::lock_guard lock(shard.mutex);
        n += shard.buckets.size();
    }
    return n;
}

Middleware rate_limit(RateLimitOptions options) {
    if (!options.key) options.key = [](const Request& req) { return client_key(req.ip()); };
    auto limiter = std::make_shared<RateLimiter>(std::move(options));
    return [limiter](Request& req, Response& res, Next next) -> Task<> {
        const auto& o = limiter->options();
        std::string key = o.key(req);
        if (key.empty()) {
            co_await next();
            co_return;
        }
        auto d = limiter->take(key);
        if (o.headers) {
            res.set("RateLimit-Limit", std::to_string(static_cast<long long>(o.burst)));
            res.set("RateLimit-Remaining", std::to_string(static_cast<long long>(d.remaining)));
            res.set("RateLimit-Reset", std::to_string(d.reset.count()));
        }
        if (!d.allowed) {
            throw HttpError(429, "too_many_requests", "Too many requests, slow down")
                .with_header("Retry-After", std::to_string(std::max<long long>(1, d.retry_after.count())));
        }
        co_await next();
    };
}

}  // namespace spur::middleware
