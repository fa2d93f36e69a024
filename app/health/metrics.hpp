#pragma once
// Prometheus metrics: requests by route and status, a latency histogram, pool gauges,
// connection counters.

#include <spur/handler.hpp>
#include <spur/mysql/pool.hpp>
#include <spur/server.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace app {

class Metrics {
public:
    /// Middleware that records every request once its response is final.
    spur::Middleware middleware();
    /// The Prometheus text exposition of everything recorded, plus the pool's gauges.
    std::string render(const spur::mysql::PoolStats& pool) const;
    /// Adds the server's connection counters (open, refused at a cap, shed) to render();
    /// the server must outlive the calls to render().
    void watch(const spur::Server& server) { server_ = &server; }

private:
    static constexpr std::array<double, 10> buckets = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5};
    struct Series {
        std::uint64_t count = 0;
        double sum = 0;
        std::array<std::uint64_t, buckets.size()> le{};
    };
    void record(std::string_view method, std::string_view route, int status, double seconds);

    const spur::Server* server_ = nullptr;
    mutable std::mutex mutex_;
    std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
    std::map<std::string, Series> latency_;  // by route
};

}  // namespace app
