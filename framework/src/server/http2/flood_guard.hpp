#pragma once
// Rates a client may not exceed on one HTTP/2 connection: a token bucket per kind of frame.

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace spur::detail {

/// `burst` tokens at first and at most; `per_second` come back each second; a frame takes one.
class TokenBucket {
public:
    using clock = std::chrono::steady_clock;

    TokenBucket(std::uint32_t burst, std::uint32_t per_second) noexcept
        : burst_(burst), rate_(per_second), tokens_(burst), last_(clock::now()) {}

    /// Takes a token; false when none is left (the client is past the rate).
    bool take() noexcept {
        const auto now = clock::now();
        const double elapsed = std::chrono::duration<double>(now - last_).count();
        last_ = now;
        tokens_ = std::min(static_cast<double>(burst_), tokens_ + elapsed * rate_);
        if (tokens_ < 1.0) return false;
        tokens_ -= 1.0;
        return true;
    }

private:
    std::uint32_t burst_;
    std::uint32_t rate_;
    double tokens_;
    clock::time_point last_;
};

}  // namespace spur::detail
