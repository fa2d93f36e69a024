#include "in_flight.hpp"

namespace app {

std::optional<InFlight::Ticket> InFlight::enter(std::uint64_t key, Refusal& why) {
    std::lock_guard lock(mutex_);
    // The account's own operation first: a client repeating itself is told so, whatever the load.
    if (keys_.contains(key)) {
        why = Refusal::same_key;
        return std::nullopt;
    }
    if (limit_ != 0 && keys_.size() >= limit_) {
        why = Refusal::full;
        return std::nullopt;
    }
    keys_.insert(key);
    why = Refusal::none;
    return Ticket(this, key);
}

void InFlight::leave(std::uint64_t key) noexcept {
    std::lock_guard lock(mutex_);
    keys_.erase(key);
}

}  // namespace app
