#pragma once
// The minimum transfer rate of a body or a response (ServerOptions::min_transfer_rate), kept
// as a bank of time: a transfer starts with `allowance`, spends the time it waits on the
// client, and earns 1/rate seconds per byte moved, never holding more than `allowance`. A
// client at or above the rate never runs out; one that stalls, or reads nothing at all, is
// dropped once the bank is empty — after `allowance` at most, however much the socket's
// buffers swallowed first. Time the application spends between two reads is not counted.

#include <algorithm>
#include <chrono>
#include <cstddef>

namespace spur::detail {

class Pace {
public:
    using clock = std::chrono::steady_clock;

    /// `rate` in bytes per second; 0 means no rate: every wait gets the whole allowance.
    Pace(std::chrono::milliseconds allowance, std::size_t rate) noexcept
        : allowance_(allowance), rate_(rate), bank_(allowance) {}

    /// How long the next wait on the client may take; starts its clock.
    clock::duration begin() noexcept {
        started_ = clock::now();
        return rate_ == 0 ? clock::duration(allowance_) : bank_;
    }
    /// Settles a wait that moved `bytes` of payload.
    void moved(std::size_t bytes) noexcept {
        waited();
        earned(bytes);
    }
    /// Settles the time the last wait took.
    void waited() noexcept {
        if (rate_ == 0) return;
        bank_ -= clock::now() - started_;
        // An empty bank still gives the next wait a moment: a wait of zero would fail a read
        // whose bytes are already in the socket.
        bank_ = std::max<clock::duration>(bank_, std::chrono::milliseconds(1));
    }
    /// Credits `bytes` of payload: framing (chunk lines, extensions, trailers) earns nothing,
    /// or a client could keep a body "fast" while it never advances.
    void earned(std::size_t bytes) noexcept {
        if (rate_ == 0 || bytes == 0) return;
        const auto credit = std::chrono::duration_cast<clock::duration>(
            std::chrono::duration<double>(static_cast<double>(bytes) / static_cast<double>(rate_)));
        bank_ = std::min<clock::duration>(allowance_, bank_ + credit);
    }

private:
    std::chrono::milliseconds allowance_;
    std::size_t rate_;
    clock::duration bank_;
    clock::time_point started_{};
};

}  // namespace spur::detail
