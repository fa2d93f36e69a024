#include <spur/middleware/rate_limit.hpp>

#include <spur/app.hpp>
#include <spur/testing/client.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace spur;
using Clock = std::chrono::steady_clock;

namespace {
struct FakeClock {
    Clock::time_point t = Clock::now();
    std::function<Clock::time_point()> fn() {
        return [this] { return t; };
    }
};
}  // namespace

TEST_CASE("a burst is allowed, then 429 with Retry-After and RateLimit headers", "[middleware][rate_limit][concurrency]") {
    FakeClock clock;
    middleware::RateLimitOptions o;
    o.burst = 3;
    o.per_second = 0.5;  // one token every 2 s
    o.now = clock.fn();
    App app;
    app.use(middleware::rate_limit(o));
    app.get("/", [](Request&, Response& res) { res.send("ok"); });
    testing::Client c(app);
    for (int i = 0; i < 3; ++i) {
        auto r = c.get("/");
        CHECK(r.status == 200);
        CHECK(r.header("RateLimit-Limit") == "3");
        CHECK(r.header("RateLimit-Remaining") == std::to_string(2 - i));
    }
    auto limited = c.get("/");
    CHECK(limited.status == 429);
    CHECK(limited.header("Retry-After") == "2");
    CHECK(limited.header("RateLimit-Remaining") == "0");
    CHECK(limited.json().at("error").at("code") == "too_many_requests");

    clock.t += std::chrono::seconds(2);  // one token back
    CHECK(c.get("/").status == 200);
    CHECK(c.get("/").status == 429);
}

TEST_CASE("clients are limited separately, by address or by a custom key", "[middleware][rate_limit][concurrency]") {
    FakeClock clock;
    middleware::RateLimitOptions o;
    o.burst = 1;
    o.per_second = 0.001;
    o.now = clock.fn();
    o.key = [](const Request& req) { return std::string(req.header("X-User")); };
    App app;
    app.use(middleware::rate_limit(o));
    app.get("/", [](Request&, Response& res) { res.send("ok"); });
    testing::Client c(app);
    CHECK(c.get("/", {{"X-User", "a"}}).status == 200);
    CHECK(c.get("/", {{"X-User", "a"}}).status == 429);
    CHECK(c.get("/", {{"X-User", "b"}}).status == 200);
    // no key: not limited
    CHECK(c.get("/").status == 200);
    CHECK(c.get("/").status == 200);
}

TEST_CASE("memory stays bounded however many keys arrive", "[middleware][rate_limit][concurrency]") {
    FakeClock clock;
    middleware::RateLimitOptions o;
    o.burst = 5;
    o.per_second = 1;
    o.max_keys = 160;
    o.now = clock.fn();
    middleware::RateLimiter limiter(o);
    for (int i = 0; i < 10000; ++i) {
        limiter.take("client-" + std::to_string(i));
        if (i % 100 == 0) clock.t += std::chrono::milliseconds(10);
    }
    CHECK(limiter.size() <= 160);
    CHECK(limiter.size() > 0);
}

TEST_CASE("under many threads exactly the burst is allowed", "[middleware][rate_limit][concurrency]") {
    middleware::RateLimitOptions o;
    o.burst = 100;
    o.per_second = 0.0001;
    middleware::RateLimiter limiter(o);
    std::atomic<int> allowed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 100; ++i)
                if (limiter.take("shared").allowed) ++allowed;
        });
    for (auto& t : threads) t.join();
    CHECK(allowed == 100);
}
