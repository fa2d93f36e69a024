#pragma once
// Memory a request holds on its client's account: the server's budget for buffered request
// bodies (ServerOptions::max_buffered_body_bytes) and one client's share of it. A request body
// is counted as it is buffered, and what it becomes (a parsed JSON tree) is counted with it.

#include <atomic>
#include <cstddef>

namespace spur::detail {

/// The counters belong to the server and outlive every request; the struct is copied by value.
struct MemoryBudget {
    std::atomic<std::size_t>* total = nullptr;  ///< every client's bytes; null: nothing counted
    std::size_t total_limit = 0;                ///< 0 = no limit
    std::atomic<std::size_t>* client = nullptr;  ///< this client's bytes; null: no share
    std::size_t client_limit = 0;                ///< 0 = no limit

    /// Counts `bytes` in, or nothing and false when a limit would be passed.
    bool take(std::size_t bytes) const noexcept {
        if (total && total->fetch_add(bytes, std::memory_order_relaxed) + bytes > total_limit && total_limit != 0) {
            total->fetch_sub(bytes, std::memory_order_relaxed);
            return false;
        }
        if (client && client->fetch_add(bytes, std::memory_order_relaxed) + bytes > client_limit && client_limit != 0) {
            client->fetch_sub(bytes, std::memory_order_relaxed);
            if (total) total->fetch_sub(bytes, std::memory_order_relaxed);
            return false;
        }
        return true;
    }
    /// Counts `bytes` out again.
    void give(std::size_t bytes) const noexcept {
        if (total) total->fetch_sub(bytes, std::memory_order_relaxed);
        if (client) client->fetch_sub(bytes, std::memory_order_relaxed);
    }
};

}  // namespace spur::detail

namespace spur {
class Request;
}

namespace spur::detail {

/// The budget the request's body is counted in (none for a request without a transport, as
/// in spur::testing): for what a feature keeps of the body in another form (a parsed upload).
MemoryBudget memory_budget_of(const Request& req) noexcept;

}  // namespace spur::detail
