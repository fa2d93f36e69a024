#pragma once
// Admission for expensive work that a client could otherwise start as often as it likes: at most
// one operation per key (an account) at a time, and at most `limit` in all. A refusal is
// immediate — nothing queues, so a flood costs the server a lookup per request, not a slot.

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_set>

namespace app {

class InFlight {
public:
    /// At most `limit` operations at once in all (0: no overall limit), one per key.
    explicit InFlight(std::size_t limit = 0) : limit_(limit) {}
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

    /// Held while the operation runs; leaving it ends the operation. Movable, not copyable.
    class Ticket {
    public:
        Ticket(Ticket&& other) noexcept : owner_(other.owner_), key_(other.key_) { other.owner_ = nullptr; }
        Ticket& operator=(Ticket&&) = delete;
        ~Ticket() {
            if (owner_) owner_->leave(key_);
        }

    private:
        friend class InFlight;
        Ticket(InFlight* owner, std::uint64_t key) noexcept : owner_(owner), key_(key) {}
        InFlight* owner_;
        std::uint64_t key_;
    };

    enum class Refusal { none, same_key, full };

    /// A ticket for `key`, or why there is none: this key already has an operation running
    /// (`same_key`), or `limit` operations are running (`full`). Thread-safe.
    std::optional<Ticket> enter(std::uint64_t key, Refusal& why);

    /// How a refusal reads to the client: a 429 with this code and message.
    struct Busy {
        const char* code;
        const char* message;
    };
    /// A ticket for `key`, or throws spur::HttpError 429 with `Retry-After: retry_after` —
    /// `same_key`'s words when this key already has an operation running, `full`'s when `limit`
    /// operations are. Thread-safe.
    Ticket admit(std::uint64_t key, Busy same_key, Busy full, const char* retry_after);

private:
    void leave(std::uint64_t key) noexcept;

    const std::size_t limit_;
    std::mutex mutex_;
    std::unordered_set<std::uint64_t> keys_;
};

}  // namespace app
