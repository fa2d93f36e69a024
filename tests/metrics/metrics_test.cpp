#include <spur/metrics.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <thread>

TEST_CASE("the exposition follows Prometheus's text format: HELP, TYPE, escaped labels, cumulative buckets", "[metrics][concurrency]") {
    spur::MetricsRegistry r;
    auto& jobs = r.counter("jobs_total", "Jobs done.\nBy queue \\ result.", {"queue", "result"});
    jobs.labels({"mail", "ok"}).inc(3);
    jobs.labels({"a\"b\\c\nd", "ok"}).inc();
    r.gauge("temperature_celsius", "Now.").get().set(-1.5);
    auto& latency = r.histogram("latency_seconds", "Latency.", {0.1, 1}, {"route"});
    latency.labels({"/x"}).observe(0.05);
    latency.labels({"/x"}).observe(0.1);  // a bound is inclusive (le)
    latency.labels({"/x"}).observe(7);
    r.gauge_function("answer", "Always 42.", [] { return 42.0; });
    CHECK(r.expose() ==
          "# HELP jobs_total Jobs done.\\nBy queue \\\\ result.\n"
          "# TYPE jobs_total counter\n"
          "jobs_total{queue=\"a\\\"b\\\\c\\nd\",result=\"ok\"} 1\n"
          "jobs_total{queue=\"mail\",result=\"ok\"} 3\n"
          "# HELP temperature_celsius Now.\n"
          "# TYPE temperature_celsius gauge\n"
          "temperature_celsius -1.5\n"
          "# HELP latency_seconds Latency.\n"
          "# TYPE latency_seconds histogram\n"
          "latency_seconds_bucket{route=\"/x\",le=\"0.1\"} 2\n"
          "latency_seconds_bucket{route=\"/x\",le=\"1\"} 2\n"
          "latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 3\n"
          "latency_seconds_sum{route=\"/x\"} 7.15\n"
          "latency_seconds_count{route=\"/x\"} 3\n"
          "# HELP answer Always 42.\n"
          "# TYPE answer gauge\n"
          "answer 42\n");
    CHECK(std::string(spur::MetricsRegistry::content_type) == "text/plain; version=0.0.4; charset=utf-8");
}

TEST_CASE("registering a name again returns the same family, differently is an error", "[metrics][concurrency]") {
    spur::MetricsRegistry r;
    auto& a = r.counter("hits_total", "Hits.", {"page"});
    CHECK(&r.counter("hits_total", "Hits.", {"page"}) == &a);
    CHECK_THROWS_AS(r.counter("hits_total", "Hits.", {"other"}), std::invalid_argument);
    CHECK_THROWS_AS(r.gauge("hits_total", "Hits."), std::invalid_argument);
    CHECK_THROWS_AS(r.counter("0bad", "x"), std::invalid_argument);
    CHECK_THROWS_AS(r.counter("bad-name", "x"), std::invalid_argument);
    CHECK_THROWS_AS(r.counter("ok_total", "x", {"__reserved"}), std::invalid_argument);
    CHECK_THROWS_AS(r.counter("ok_total", "x", {"a:b"}), std::invalid_argument);
    CHECK_THROWS_AS(r.histogram("h", "x", {1, 0.5}), std::invalid_argument);
    CHECK_THROWS_AS(r.histogram("h", "x", {1}, {"le"}), std::invalid_argument);
    CHECK_THROWS_AS(a.labels({"one", "two"}), std::invalid_argument);
    CHECK_THROWS_AS(a.labels({"x"}).inc(-1), std::invalid_argument);
}

TEST_CASE("past max_series new label values share one overflow series", "[metrics][concurrency]") {
    spur::MetricsRegistry r(spur::MetricsRegistryOptions{.max_series = 2});
    auto& c = r.counter("paths_total", "Paths.", {"path"});
    c.labels({"/a"}).inc();
    c.labels({"/b"}).inc();
    c.labels({"/c"}).inc();
    c.labels({"/d"}).inc();
    c.labels({"/a"}).inc();  // existing series still count on their own
    const auto text = r.expose();
    CHECK(text.find("paths_total{path=\"/a\"} 2\n") != std::string::npos);
    CHECK(text.find("paths_total{path=\"overflow\"} 2\n") != std::string::npos);
    CHECK(text.find("/c") == std::string::npos);
}

TEST_CASE("updates from several threads are all counted", "[metrics][concurrency]") {
    spur::MetricsRegistry r;
    auto& c = r.counter("n_total", "N.", {"thread"});
    auto& h = r.histogram("v", "V.", {1, 2});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            const auto name = std::to_string(t % 2);
            for (int i = 0; i < 5000; ++i) {
                c.labels({name}).inc();
                h.get().observe(i % 3);
            }
        });
    for (auto& th : threads) th.join();
    CHECK(c.labels({"0"}).value() == 10000);
    CHECK(c.labels({"1"}).value() == 10000);
    CHECK(h.get().count() == 20000);
    CHECK(h.get().cumulative() == std::vector<std::uint64_t>{13336, 20000, 20000});
}

TEST_CASE("a thread's cached series belong to their own family, also after a registry is gone", "[metrics][concurrency]") {
    // Two families with the same label values, looked up in turns from one thread: each keeps
    // its own count (the thread's cache is keyed by family, not by label values alone).
    spur::MetricsRegistry r;
    auto& a = r.counter("a_total", "A.", {"route"});
    auto& b = r.counter("b_total", "B.", {"route"});
    for (int i = 0; i < 3; ++i) {
        a.labels({"/x"}).inc();
        b.labels({"/x"}).inc(2);
    }
    CHECK(a.labels({"/x"}).value() == 3);
    CHECK(b.labels({"/x"}).value() == 6);
    CHECK(&a.labels({"/x"}) != &b.labels({"/x"}));
    // Registries made and destroyed in a row (their families likely at the same addresses):
    // a new one starts from zero, never finding the old one's series through the cache.
    for (int round = 0; round < 5; ++round) {
        auto fresh = std::make_unique<spur::MetricsRegistry>();
        auto& c = fresh->counter("c_total", "C.", {"route"});
        CHECK(c.labels({"/x"}).value() == 0);
        c.labels({"/x"}).inc();
        CHECK(c.labels({"/x"}).value() == 1);
        CHECK(fresh->expose().find("c_total{route=\"/x\"} 1\n") != std::string::npos);
    }
}

// With SPUR_METRICS_OUT set (the promtool_check_metrics CTest fixture) the exposition of a
// registry using every feature is written there, for Prometheus's own parser to check.
TEST_CASE("an exposition with every kind of metric for promtool", "[metrics][concurrency]") {
    spur::MetricsRegistry r;
    r.counter("requests_total", "Requests \"quoted\" and \\ escaped.", {"path"}).labels({"/a\"b\\c\nd"}).inc(2);
    r.gauge("queue_depth", "Depth.", {"queue"}).labels({"ünïcode"}).set(3.25);
    auto& h = r.histogram("work_seconds", "Work.", {0.001, 0.5, 10}, {"kind"});
    h.labels({"fast"}).observe(0.0001);
    h.labels({"slow"}).observe(42);
    r.counter_function("restarts_total", "Restarts.", [] { return 1.0; });
    r.gauge_function("temperature", "Not a number yet.", [] { return std::nan(""); });
    const auto text = r.expose();
    CHECK(text.find("temperature NaN\n") != std::string::npos);
    if (const char* out = std::getenv("SPUR_METRICS_OUT")) std::ofstream(out) << text;
}
