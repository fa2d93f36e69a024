#include "health/metrics.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <iterator>

namespace app {

spur::Middleware Metrics::middleware() {
    return [this](spur::Request& req, spur::Response& res, spur::Next next) -> spur::Task<> {
        const auto start = std::chrono::steady_clock::now();
        res.on_finish([this, &req, start](spur::Response& r) {
            double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            // Unmatched paths share one label, so scanners cannot grow the series without bound.
            std::string_view route = req.route_pattern().empty() ? std::string_view("unmatched") : req.route_pattern();
            record(req.method(), route, r.status(), s);
        });
        co_await next();
    };
}

void Metrics::record(std::string_view method, std::string_view route, int status, double seconds) {
    std::lock_guard lock(mutex_);
    // Any token is a valid method on the wire; only the standard ones get a series of their own.
    static constexpr std::string_view known[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"};
    const bool standard = std::find(std::begin(known), std::end(known), method) != std::end(known);
    std::string m(standard ? method : "OTHER");
    ++requests_[{m, std::string(route), status}];
    auto& s = latency_[std::string(route)];
    ++s.count;
    s.sum += seconds;
    for (std::size_t i = 0; i < buckets.size(); ++i)
        if (seconds <= buckets[i]) ++s.le[i];
}

std::string Metrics::render(const spur::mysql::PoolStats& pool) const {
    std::lock_guard lock(mutex_);
    std::string out;
    out += "# HELP http_requests_total HTTP requests by method, route and status.\n";
    out += "# TYPE http_requests_total counter\n";
    for (const auto& [key, n] : requests_)
        out += fmt::format("http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}\n", std::get<0>(key),
                           std::get<1>(key), std::get<2>(key), n);
    out += "# HELP http_request_duration_seconds Time to produce a response, by route.\n";
    out += "# TYPE http_request_duration_seconds histogram\n";
    for (const auto& [route, s] : latency_) {
        for (std::size_t i = 0; i < buckets.size(); ++i)
            out += fmt::format("http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n", route, buckets[i], s.le[i]);
        out += fmt::format("http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n", route, s.count);
        out += fmt::format("http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", route, s.sum);
        out += fmt::format("http_request_duration_seconds_count{{route=\"{}\"}} {}\n", route, s.count);
    }
    out += "# HELP db_pool_connections Database connections by state.\n";
    out += "# TYPE db_pool_connections gauge\n";
    out += fmt::format("db_pool_connections{{state=\"in_use\"}} {}\n", pool.in_use);
    out += fmt::format("db_pool_connections{{state=\"idle\"}} {}\n", pool.idle);
    out += "# HELP db_pool_waiting Requests waiting for a database connection.\n";
    out += "# TYPE db_pool_waiting gauge\n";
    out += fmt::format("db_pool_waiting {}\n", pool.waiting);
    if (server_) {
        const auto c = server_->stats();
        out += "# HELP http_connections_open Open client connections.\n";
        out += "# TYPE http_connections_open gauge\n";
        out += fmt::format("http_connections_open {}\n", c.open_connections);
        out += "# HELP http_connections_refused_total Connections closed at accept: MAX_CONNECTIONS or MAX_CONNECTIONS_PER_IP reached.\n";
        out += "# TYPE http_connections_refused_total counter\n";
        out += fmt::format("http_connections_refused_total {}\n", c.refused_connections);
        out += "# HELP http_connections_shed_total Idle keep-alive connections closed to admit new ones at MAX_CONNECTIONS.\n";
        out += "# TYPE http_connections_shed_total counter\n";
        out += fmt::format("http_connections_shed_total {}\n", c.shed_connections);
    }
    return out;
}

}  // namespace app
