#include <spur/middleware/metrics.hpp>

#include <spur/request.hpp>
#include <spur/response.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <iterator>

namespace spur::middleware {

namespace {

struct Instruments {
    CounterFamily& requests;
    HistogramFamily& duration;
    Gauge& in_flight;
};

// Any token is a method on the wire; only the standard ones get series of their own.
std::string_view method_label(std::string_view method) {
    static constexpr std::string_view known[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"};
    const auto* it = std::find(std::begin(known), std::end(known), method);
    return it != std::end(known) ? *it : std::string_view("OTHER");
}

void record(const Instruments& in, const Request& req, const Response& res, std::chrono::steady_clock::time_point start) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // Unmatched paths share one label, so scanners cannot grow the series.
    const std::string_view route = req.route_pattern().empty() ? std::string_view("unmatched") : req.route_pattern();
    char status[8];
    const auto end = std::to_chars(status, status + sizeof status, res.status()).ptr;
    in.requests.labels({method_label(req.method()), route, std::string_view(status, static_cast<std::size_t>(end - status))}).inc();
    in.duration.labels({route}).observe(seconds);
    in.in_flight.dec();
}

}  // namespace

Middleware metrics(MetricsRegistry& registry, MetricsOptions options) {
    auto in = std::make_shared<const Instruments>(Instruments{
        registry.counter("http_requests_total", "HTTP requests by method, route and status.", {"method", "route", "status"}),
        registry.histogram("http_request_duration_seconds", "Time to produce a response, by route.", std::move(options.buckets),
                           {"route"}),
        registry.gauge("http_requests_in_flight", "Requests being handled now.").get()});
    return before([in](Request& req, Response& res) {
        in->in_flight.inc();
        const auto start = std::chrono::steady_clock::now();
        // The middleware, and so the instruments, outlives every request it sees.
        res.on_finish([in = in.get(), &req, start](Response& r) { record(*in, req, r, start); });
    });
}

}  // namespace spur::middleware
