// Series lookup and the series types themselves; the exposition is in exposition.cpp.
#include <spur/metrics.hpp>

#include "metrics/family_state.hpp"

#include <algorithm>
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

template <class S>
S& Family<S>::labels(std::span<const std::string_view> values) {
    auto& st = *state_;
    if (values.size() != st.label_names.size())
        throw std::invalid_argument("metric " + st.name + ": " + std::to_string(st.label_names.size()) +
                                    " label values expected, got " + std::to_string(values.size()));
    auto& shard = st.shards[detail::LabelHash{}(values) % st.shards.size()];
    {
        std::shared_lock reading(shard.mutex);
        if (auto it = shard.series.find(values); it != shard.series.end()) return *it->second;
    }
    std::lock_guard lock(shard.mutex);
    if (auto it = shard.series.find(values); it != shard.series.end()) return *it->second;  // made meanwhile
    // fetch_add reserves a slot, so concurrent creators cannot overshoot the limit together.
    if (st.size.fetch_add(1, std::memory_order_relaxed) >= st.max_series) {
        st.size.fetch_sub(1, std::memory_order_relaxed);
        st.overflowed.store(true, std::memory_order_release);
        return *st.overflow;
    }
    std::vector<std::string> key(values.begin(), values.end());
    return *shard.series.emplace(std::move(key), st.make()).first->second;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

}  // namespace spur
