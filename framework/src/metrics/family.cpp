// Series lookup and the series types themselves; the exposition is in exposition.cpp.
#include <spur/metrics.hpp>

#include "metrics/family_state.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cmath>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>

namespace spur {

void Counter::inc(double by) {
    if (!(by >= 0) || !std::isfinite(by)) throw std::invalid_argument("Counter::inc: the amount must be finite and not negative");
    value_.fetch_add(by, std::memory_order_relaxed);
}

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds), buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds.size() + 1)) {}

void Histogram::observe(double v) noexcept {
    if (std::isnan(v)) return;
    // The first bound ≥ v; past the last one, the +Inf bucket.
    const auto i = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
}

std::uint64_t Histogram::count() const noexcept {
    std::uint64_t n = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) n += buckets_[i].load(std::memory_order_relaxed);
    return n;
}

std::vector<std::uint64_t> Histogram::cumulative() const {
    std::vector<std::uint64_t> out(bounds_.size() + 1);
    std::uint64_t running = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) out[i] = running += buckets_[i].load(std::memory_order_relaxed);
    return out;
}

template <class S>
Family<S>::Family(std::unique_ptr<detail::FamilyState<S>> state) : state_(std::move(state)) {}

template <class S>
Family<S>::~Family() = default;

namespace detail {
std::uint64_t next_family_serial() noexcept {
    static std::atomic<std::uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace detail

namespace {
// A thread's recent lookups, so that a request's series is found without the shard's lock
// (two atomic read-modify-writes) and the map's walk. A series and its key never move or go
// while their family lives, and families are told apart by serial, never reused: an entry
// left by a destroyed family matches nothing, and its pointers are never followed.
struct CachedSeries {
    std::uint64_t family = 0;
    std::size_t hash = 0;
    const std::vector<std::string>* key = nullptr;
    void* series = nullptr;
};
constexpr std::size_t series_cache_bits = 5;
thread_local std::array<CachedSeries, std::size_t{1} << series_cache_bits> series_cache;

CachedSeries& cache_slot(std::uint64_t family, std::size_t hash) noexcept {
    const std::uint64_t mixed = (hash ^ family) * 0x9E3779B97F4A7C15ull;
    return series_cache[mixed >> (64 - series_cache_bits)];
}
}  // namespace

template <class S>
S& Family<S>::labels(std::span<const std::string_view> values) {
    auto& st = *state_;
    if (values.size() != st.label_names.size())
        throw std::invalid_argument("metric " + st.name + ": " + std::to_string(st.label_names.size()) +
                                    " label values expected, got " + std::to_string(values.size()));
    const std::size_t hash = detail::LabelHash{}(values);
    CachedSeries& cached = cache_slot(st.serial, hash);
    if (cached.family == st.serial && cached.hash == hash && detail::LabelEqual{}(*cached.key, values))
        return *static_cast<S*>(cached.series);
    const auto remember = [&](const auto& entry) -> S& {
        cached = CachedSeries{st.serial, hash, &entry.first, entry.second.get()};
        return *entry.second;
    };
    auto& shard = st.shards[hash % st.shards.size()];
    {
        std::shared_lock reading(shard.mutex);
        if (auto it = shard.series.find(values); it != shard.series.end()) return remember(*it);
    }
    std::lock_guard lock(shard.mutex);
    if (auto it = shard.series.find(values); it != shard.series.end()) return remember(*it);  // made meanwhile
    // fetch_add reserves a slot, so concurrent creators cannot overshoot the limit together.
    if (st.size.fetch_add(1, std::memory_order_relaxed) >= st.max_series) {
        st.size.fetch_sub(1, std::memory_order_relaxed);
        st.overflowed.store(true, std::memory_order_release);
        return *st.overflow;
    }
    std::vector<std::string> key(values.begin(), values.end());
    return remember(*shard.series.emplace(std::move(key), st.make()).first);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

}  // namespace spur
