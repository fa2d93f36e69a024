#include "in_flight.hpp"

#include <spur/http_error.hpp>

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

InFlight::Ticket InFlight::admit(std::uint64_t key, Busy same_key, Busy full, const char* retry_after) {
    Refusal why{};
    auto ticket = enter(key, why);
    if (ticket) return std::move(*ticket);
    const Busy& busy = why == Refusal::same_key ? same_key : full;
    spur::HttpError e(429, busy.code, busy.message);
    e.with_header("Retry-After", retry_after);
    throw e;
}

void InFlight::leave(std::uint64_t key) noexcept {
    std::lock_guard lock(mutex_);
    keys_.erase(key);
}

}  // namespace app
