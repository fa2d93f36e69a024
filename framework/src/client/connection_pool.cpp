#include "client/connection_pool.hpp"

#include <poll.h>

namespace spur::client {

bool Connection::still_idle() {
    pollfd p{lowest().socket().native_handle(), POLLIN | POLLRDHUP, 0};
    return ::poll(&p, 1, 0) == 0;
}

std::unique_ptr<Connection> IdleConnections::take(std::uint64_t client, const std::string& key,
                                                  std::chrono::milliseconds max_idle_time) {
    std::lock_guard lock(mutex_);
    auto it = lists_.find({client, key});
    if (it == lists_.end()) return nullptr;
    const auto now = std::chrono::steady_clock::now();
    while (!it->second.empty()) {
        auto c = std::move(it->second.back());
        it->second.pop_back();
        if (now - c->idle_since < max_idle_time && c->still_idle()) return c;
    }
    return nullptr;
}

bool IdleConnections::put(std::uint64_t client, const std::string& key, std::unique_ptr<Connection>& c, std::size_t max) {
    c->idle_since = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    auto& list = lists_[{client, key}];
    if (list.size() >= max) return false;
    list.push_back(std::move(c));
    return true;
}

std::size_t IdleConnections::count(std::uint64_t client) {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& [k, list] : lists_)
        if (k.first == client) n += list.size();
    return n;
}

void IdleConnections::shutdown() {
    std::lock_guard lock(mutex_);
    lists_.clear();
}

}  // namespace spur::client
