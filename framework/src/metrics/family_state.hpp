#pragma once
// The storage behind spur::Family: label values → series, in independently locked shards.

#include <spur/metrics.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace spur::detail {

enum class MetricType { counter, gauge, histogram };

// Finds a series by the request's string_views without building the owned key first.
struct LabelHash {
    using is_transparent = void;
    template <class Values>
    std::size_t operator()(const Values& values) const noexcept {
        std::size_t h = 0xcbf29ce484222325ull;
        for (const auto& v : values) h = (h ^ std::hash<std::string_view>{}(v)) * 0x100000001b3ull;
        return h;
    }
};
struct LabelEqual {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const noexcept {
        if (a.size() != b.size()) return false;
        for (std::size_t i = 0; i < a.size(); ++i)
            if (std::string_view(a[i]) != std::string_view(b[i])) return false;
        return true;
    }
};

/// A number no other family of this process had or will have (the thread caches' key).
std::uint64_t next_family_serial() noexcept;

template <class S>
struct FamilyState {
    const std::uint64_t serial = next_family_serial();
    std::string name;
    std::string help;
    std::vector<std::string> label_names;
    std::vector<double> bounds;  // histograms only
    std::size_t max_series = 0;

    struct Shard {
        // Every request looks its series up; only a new label combination writes. Readers
        // share the lock, so I/O threads recording the same route never wait for each other
        // (a plain mutex made them, one futex call each time two met).
        std::shared_mutex mutex;
        std::unordered_map<std::vector<std::string>, std::unique_ptr<S>, LabelHash, LabelEqual> series;
    };
    std::array<Shard, 16> shards;
    std::atomic<std::size_t> size{0};
    // Made with the family and shown once used: no lazy creation to race with the exposition.
    std::unique_ptr<S> overflow;
    std::atomic<bool> overflowed{false};

    std::unique_ptr<S> make() const {
        if constexpr (std::is_same_v<S, Histogram>) {
            return std::make_unique<S>(std::span<const double>(bounds));
        } else {
            return std::make_unique<S>();
        }
    }

    /// Every series with its label values, sorted by them; the overflow series last.
    std::vector<std::pair<std::vector<std::string>, const S*>> snapshot() {
        std::vector<std::pair<std::vector<std::string>, const S*>> out;
        for (auto& shard : shards) {
            std::shared_lock lock(shard.mutex);
            for (const auto& [key, series] : shard.series) out.emplace_back(key, series.get());
        }
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        if (overflowed.load(std::memory_order_acquire)) out.emplace_back(std::vector<std::string>(label_names.size(), "overflow"), overflow.get());
        return out;
    }
};

}  // namespace spur::detail
