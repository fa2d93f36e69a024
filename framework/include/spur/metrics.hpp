#pragma once
// spur::MetricsRegistry — counters, gauges and histograms, exposed in Prometheus's text format.

#include <spur/handler.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace spur {

class Server;

/// One counter series: only goes up.
class Counter {
public:
    /// Adds `by`. Throws std::invalid_argument for a negative or non-finite `by`.
    void inc(double by = 1);
    double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0};
};

/// One gauge series: a value that goes up and down.
class Gauge {
public:
    void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
    void inc(double by = 1) noexcept { value_.fetch_add(by, std::memory_order_relaxed); }
    void dec(double by = 1) noexcept { value_.fetch_sub(by, std::memory_order_relaxed); }
    double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0};
};

/// One histogram series: observations counted into fixed buckets, plus their sum.
class Histogram {
public:
    /// `bounds`: the family's upper bounds, ascending (the +Inf bucket is implicit).
    explicit Histogram(std::span<const double> bounds);
    /// Counts `v` (NaN is ignored).
    void observe(double v) noexcept;
    /// Observations so far.
    std::uint64_t count() const noexcept;
    double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }
    /// Observations ≤ each bound, then the total (the +Inf bucket): what the exposition shows.
    std::vector<std::uint64_t> cumulative() const;

private:
    std::span<const double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1, not cumulative
    std::atomic<double> sum_{0};
};

namespace detail { template <class S> struct FamilyState; }

/// The series of one metric name, one per combination of label values. Thread-safe: series
/// are found through 16 independently locked shards, and updated with atomics.
template <class S>
class Family {
public:
    /// The series for `values` (one per label name, in order), created on first use. Past the
    /// registry's max_series per family every new combination shares one series whose label
    /// values are all "overflow", so a bug or an attacker cannot grow memory without bound.
    /// Throws std::invalid_argument if the number of values is wrong.
    S& labels(std::initializer_list<std::string_view> values) { return labels(std::span(values.begin(), values.size())); }
    S& labels(std::span<const std::string_view> values);
    /// The series of a family without labels.
    S& get() { return labels(std::span<const std::string_view>{}); }

    explicit Family(std::unique_ptr<detail::FamilyState<S>> state);
    ~Family();
    Family(const Family&) = delete;
    Family& operator=(const Family&) = delete;
    /// The family's state (for the exposition).
    detail::FamilyState<S>& state() noexcept { return *state_; }

private:
    std::unique_ptr<detail::FamilyState<S>> state_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

/// Settings of a MetricsRegistry.
struct MetricsRegistryOptions {
    /// Series per family before new label combinations fold into the "overflow" series.
    std::size_t max_series = 10000;
};

/// A set of metrics and their Prometheus text exposition (format 0.0.4). Create one per
/// process (or per app) and pass it to what records into it — spur has no global registry.
/// Registration is thread-safe; registering a name again with the same type and labels returns
/// the same family, with anything else throws std::invalid_argument — as does a name that is
/// not [a-zA-Z_:][a-zA-Z0-9_:]*, a label name that is not [a-zA-Z_][a-zA-Z0-9_]* or starts
/// with "__", and a histogram with a label named "le" or bounds that are not ascending and finite.
class MetricsRegistry {
public:
    explicit MetricsRegistry(MetricsRegistryOptions options = {});
    ~MetricsRegistry();
    MetricsRegistry(const MetricsRegistry&) = delete;
    MetricsRegistry& operator=(const MetricsRegistry&) = delete;

    CounterFamily& counter(std::string_view name, std::string_view help, std::vector<std::string> label_names = {});
    GaugeFamily& gauge(std::string_view name, std::string_view help, std::vector<std::string> label_names = {});
    HistogramFamily& histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                               std::vector<std::string> label_names = {});
    /// A counter or gauge without labels whose value `read` returns at each exposition (a
    /// total kept elsewhere, a pool's size). `read` runs on the scraping thread.
    void counter_function(std::string_view name, std::string_view help, std::function<double()> read);
    void gauge_function(std::string_view name, std::string_view help, std::function<double()> read);
    /// Runs `collect` at the start of every exposition, to set gauges from elsewhere.
    void on_collect(std::function<void()> collect);

    /// Every metric in the text format, families in registration order, series sorted by label.
    std::string expose() const;
    /// The Content-Type of expose(): "text/plain; version=0.0.4; charset=utf-8".
    static constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

/// A handler answering with `registry.expose()` (route it: `app.get("/metrics", ...)`, or serve
/// it on a separate listener that only the scraper reaches). The registry must outlive it.
Handler metrics_handler(MetricsRegistry& registry);

/// Adds the server's connection gauges and counters to `registry`: http_connections_open,
/// http_connections_refused_total, http_connections_shed_total, websocket_sessions_open. The
/// server must outlive every exposition.
void collect_server_metrics(MetricsRegistry& registry, const Server& server);

}  // namespace spur
