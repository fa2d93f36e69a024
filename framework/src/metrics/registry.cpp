// MetricsRegistry: registration, the text exposition (Prometheus format 0.0.4), the handler.
#include <spur/metrics.hpp>

#include <spur/request.hpp>
#include <spur/response.hpp>

#include "metrics/family_state.hpp"

#include <fmt/core.h>

#include <cmath>
#include <stdexcept>
#include <variant>

namespace spur {

namespace {

bool valid_metric_name(std::string_view n) {
    if (n.empty()) return false;
    for (std::size_t i = 0; i < n.size(); ++i) {
        const char c = n[i];
        const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}

bool valid_label_name(std::string_view n) {
    return valid_metric_name(n) && n.find(':') == std::string_view::npos && n.substr(0, 2) != "__";
}

// HELP text: backslash and newline escaped. Label values: also the double quote.
void append_escaped(std::string& out, std::string_view s, bool quote) {
    for (char c : s) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else if (quote && c == '"') out += "\\\"";
        else out += c;
    }
}

void append_number(std::string& out, double v) {
    if (std::isnan(v)) out += "NaN";
    else if (std::isinf(v)) out += v > 0 ? "+Inf" : "-Inf";
    else out += fmt::format("{}", v);
}

void append_labels(std::string& out, const std::vector<std::string>& names, const std::vector<std::string>& values,
                   std::string_view extra_name = {}, std::string_view extra_value = {}) {
    if (names.empty() && extra_name.empty()) return;
    out += '{';
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i) out += ',';
        out += names[i];
        out += "=\"";
        append_escaped(out, values[i], true);
        out += '"';
    }
    if (!extra_name.empty()) {
        if (!names.empty()) out += ',';
        out += extra_name;
        out += "=\"";
        out += extra_value;
        out += '"';
    }
    out += '}';
}

void append_header(std::string& out, std::string_view name, std::string_view help, std::string_view type) {
    out += "# HELP ";
    out += name;
    out += ' ';
    append_escaped(out, help, false);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

// A counter or gauge family: one `name{labels} value` line per series.
template <class S>
void append_values(std::string& out, detail::FamilyState<S>& st, std::string_view type) {
    append_header(out, st.name, st.help, type);
    for (const auto& [labels, series] : st.snapshot()) {
        out += st.name;
        append_labels(out, st.label_names, labels);
        out += ' ';
        append_number(out, series->value());
        out += '\n';
    }
}

struct FunctionMetric {
    std::string name, help;
    bool counter;
    std::function<double()> read;
};

}  // namespace

struct MetricsRegistry::Impl {
    MetricsRegistryOptions options;
    mutable std::mutex mutex;  // registration and exposition only, never a series update
    std::vector<std::variant<std::unique_ptr<CounterFamily>, std::unique_ptr<GaugeFamily>, std::unique_ptr<HistogramFamily>,
                             FunctionMetric>>
        metrics;
    std::vector<std::function<void()>> collectors;

    void check_new_name(std::string_view name) const {
        if (!valid_metric_name(name)) throw std::invalid_argument("metric name \"" + std::string(name) + "\" is not valid");
    }

    template <class S>
    Family<S>& family(std::string_view name, std::string_view help, std::vector<std::string> labels, std::vector<double> bounds) {
        check_new_name(name);
        for (const auto& l : labels)
            if (!valid_label_name(l)) throw std::invalid_argument("metric " + std::string(name) + ": label name \"" + l + "\" is not valid");
        std::lock_guard lock(mutex);
        for (auto& m : metrics) {
            const std::string* existing = std::visit(
                [](auto& x) -> const std::string* {
                    if constexpr (std::is_same_v<std::decay_t<decltype(x)>, FunctionMetric>) return &x.name;
                    else return &x->state().name;
                },
                m);
            if (*existing != name) continue;
            auto* same = std::get_if<std::unique_ptr<Family<S>>>(&m);
            if (same && (*same)->state().label_names == labels && (*same)->state().bounds == bounds) return **same;
            throw std::invalid_argument("metric " + std::string(name) + " is already registered differently");
        }
        auto st = std::make_unique<detail::FamilyState<S>>();
        st->name = name;
        st->help = help;
        st->label_names = std::move(labels);
        st->bounds = std::move(bounds);
        st->max_series = options.max_series;
        st->overflow = st->make();
        auto f = std::make_unique<Family<S>>(std::move(st));
        auto& ref = *f;
        metrics.emplace_back(std::move(f));
        return ref;
    }

    void function(std::string_view name, std::string_view help, bool counter, std::function<double()> read) {
        check_new_name(name);
        if (!read) throw std::invalid_argument("metric " + std::string(name) + ": no function");
        std::lock_guard lock(mutex);
        for (auto& m : metrics)
            if (auto* f = std::get_if<FunctionMetric>(&m); f && f->name == name)
                throw std::invalid_argument("metric " + std::string(name) + " is already registered");
        metrics.emplace_back(FunctionMetric{std::string(name), std::string(help), counter, std::move(read)});
    }
};

MetricsRegistry::MetricsRegistry(MetricsRegistryOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->options = options;
}
MetricsRegistry::~MetricsRegistry() = default;

CounterFamily& MetricsRegistry::counter(std::string_view name, std::string_view help, std::vector<std::string> label_names) {
    return impl_->family<Counter>(name, help, std::move(label_names), {});
}

GaugeFamily& MetricsRegistry::gauge(std::string_view name, std::string_view help, std::vector<std::string> label_names) {
    return impl_->family<Gauge>(name, help, std::move(label_names), {});
}

HistogramFamily& MetricsRegistry::histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                                            std::vector<std::string> label_names) {
    for (std::size_t i = 0; i < bounds.size(); ++i)
        if (!std::isfinite(bounds[i]) || (i && bounds[i] <= bounds[i - 1]))
            throw std::invalid_argument("histogram " + std::string(name) + ": bounds must be finite and ascending");
    for (const auto& l : label_names)
        if (l == "le") throw std::invalid_argument("histogram " + std::string(name) + ": \"le\" is reserved");
    return impl_->family<Histogram>(name, help, std::move(label_names), std::move(bounds));
}

void MetricsRegistry::counter_function(std::string_view name, std::string_view help, std::function<double()> read) {
    impl_->function(name, help, true, std::move(read));
}

void MetricsRegistry::gauge_function(std::string_view name, std::string_view help, std::function<double()> read) {
    impl_->function(name, help, false, std::move(read));
}

void MetricsRegistry::on_collect(std::function<void()> collect) {
    std::lock_guard lock(impl_->mutex);
    impl_->collectors.push_back(std::move(collect));
}

std::string MetricsRegistry::expose() const {
    std::lock_guard lock(impl_->mutex);
    for (const auto& c : impl_->collectors) c();
    std::string out;
    for (const auto& m : impl_->metrics) {
        if (const auto* f = std::get_if<FunctionMetric>(&m)) {
            append_header(out, f->name, f->help, f->counter ? "counter" : "gauge");
            out += f->name;
            out += ' ';
            append_number(out, f->read());
            out += '\n';
        } else if (const auto* c = std::get_if<std::unique_ptr<CounterFamily>>(&m)) {
            append_values(out, (*c)->state(), "counter");
        } else if (const auto* g = std::get_if<std::unique_ptr<GaugeFamily>>(&m)) {
            append_values(out, (*g)->state(), "gauge");
        } else if (const auto* h = std::get_if<std::unique_ptr<HistogramFamily>>(&m)) {
            auto& st = (*h)->state();
            append_header(out, st.name, st.help, "histogram");
            for (const auto& [labels, series] : st.snapshot()) {
                const auto counts = series->cumulative();
                for (std::size_t i = 0; i < counts.size(); ++i) {
                    out += st.name;
                    out += "_bucket";
                    std::string le;
                    if (i < st.bounds.size()) append_number(le, st.bounds[i]);
                    else le = "+Inf";
                    append_labels(out, st.label_names, labels, "le", le);
                    out += fmt::format(" {}\n", counts[i]);
                }
                out += st.name;
                out += "_sum";
                append_labels(out, st.label_names, labels);
                out += ' ';
                append_number(out, series->sum());
                out += '\n';
                out += st.name;
                out += "_count";
                append_labels(out, st.label_names, labels);
                out += fmt::format(" {}\n", counts.back());
            }
        }
    }
    return out;
}

Handler metrics_handler(MetricsRegistry& registry) {
    return [&registry](Request&, Response& res) {
        res.set("Content-Type", MetricsRegistry::content_type);
        res.set("Cache-Control", "no-store");
        res.send(registry.expose());
    };
}

}  // namespace spur
