// The extension seam (#32) under attack: hooks that fail, lifecycle calls made twice or
// concurrently, extensions added late, and the routing facts that left Request's RouteMatch.
#include <spur/extension.hpp>

#include <spur/app.hpp>
#include <spur/background/background.hpp>
#include <spur/openapi/openapi.hpp>
#include <spur/serving.hpp>
#include <spur/testing/client.hpp>
#include <spur/views/views.hpp>

#include "support/run_until.hpp"
#include "support/sleep.hpp"
#include "support/quiet_app.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

using namespace std::chrono_literals;
namespace net = boost::asio;
using spur::test::run_until;

namespace {

using spur::test::quiet_app;

// A task that waits until the background is stopped (terminal cancellation), then records it.
spur::Task<> wait_for_cancellation(std::atomic<bool>& started, std::atomic<bool>& cancelled) {
    started = true;
    try {
        co_await spur::test::sleep_for(1h);
    } catch (const boost::system::system_error&) {
        cancelled = true;
        throw;
    }
}

struct Refuses final : spur::Extension {
    void frozen(const spur::App&) override { throw std::logic_error("this app has no audit route"); }
};

struct StopThrows final : spur::Extension {
    void stop(std::function<void()>) override { throw std::runtime_error("stop failed"); }
};

// Records the lifecycle events it hears, in order.
struct Recorder final : spur::Extension {
    explicit Recorder(std::vector<std::string>& events) : events_(events) {}
    void frozen(const spur::App&) override { events_.push_back("frozen"); }
    void start(const net::any_io_executor&) override { events_.push_back("start"); }
    void drain() noexcept override { events_.push_back("drain"); }
    void stop(std::function<void()> done) override {
        events_.push_back("stop");
        done();
    }
    std::vector<std::string>& events_;
};

}  // namespace

// Extension::frozen() says "Throwing std::logic_error stops the start". It does, once: the
// app is left frozen, so the next Serving (a retried listen(), a second test client) starts
// it without asking again, and the extensions after the refusing one never heard frozen():
// the OpenAPI document served is then an empty 200.
TEST_CASE("an extension that refuses the app in frozen() refuses a second start too", "[core][extension][concurrency]") {
    auto app = quiet_app();
    app.get("/items", [](spur::Request&, spur::Response& res) { res.send("items"); });
    app.extensions().emplace<Refuses>();
    spur::openapi(app, {});
    CHECK_THROWS_WITH((void)spur::Serving(app), "this app has no audit route");

    bool refused_again = false;
    try {
        spur::Serving again(app);
    } catch (const std::logic_error&) {
        refused_again = true;
    }
    CHECK(refused_again);
    if (!refused_again) {
        // What a client then gets: the document was never built.
        spur::testing::Client client(app);
        auto r = client.get("/openapi.json");
        CHECK(r.status == 200);
        CHECK_FALSE(r.body.empty());
    }
}

// A throwing stop() escapes Serving::stop: `done` never runs and the extensions after it are
// never stopped. In the server, close_listeners() is left before the drain deadline is armed,
// so a periodic task keeps the I/O loop (and Server::run) alive for good.
TEST_CASE("an extension whose stop() throws neither keeps the others running nor loses done", "[core][extension][concurrency]") {
    // The io_context outlives the app: while this fails, the task is never cancelled, and the
    // app's background must go before the strands it holds.
    net::io_context io;
    std::atomic<bool> started{false}, cancelled{false};
    auto app = quiet_app();
    app.extensions().emplace<StopThrows>();
    spur::spawn(app, [&]() -> spur::Task<> { return wait_for_cancellation(started, cancelled); }, "waiter");
    spur::Serving(app).start(io.get_executor());
    REQUIRE(run_until(io, [&] { return started.load(); }));

    bool done = false;
    bool threw = false;
    try {
        spur::Serving(app).stop([&] { done = true; });
    } catch (const std::exception&) {
        threw = true;
    }
    CHECK_FALSE(threw);
    CHECK(run_until(io, [&] { return cancelled.load() && done; }, 2000ms));
    CHECK(cancelled);
    CHECK(done);
    io.stop();
}

// Serving says the lifecycle steps happen once "however many handles call them", and stop()
// calls `done` "once all of it has finished". A second stop (a second Server on the same
// app, a transport and its admin side) gets `done` at once while the first one's tasks are
// still being cancelled. Before #32 Background chained the second stop onto the first.
TEST_CASE("a second Serving::stop reports done only once the work the first stop cancelled has finished", "[core][extension][concurrency]") {
    net::io_context io;
    std::atomic<bool> started{false}, cancelled{false};
    auto app = quiet_app();
    spur::Serving serving(app);
    serving.start(io.get_executor());
    spur::spawn(app, [&]() -> spur::Task<> { return wait_for_cancellation(started, cancelled); }, "waiter");
    REQUIRE(run_until(io, [&] { return started.load(); }));

    std::atomic<bool> first{false}, second{false};
    serving.stop([&] { first = true; });
    spur::Serving(app).stop([&] { second = true; });
    // Nothing has run on `io` since the stops: the task has not seen its cancellation yet.
    CHECK_FALSE(cancelled);
    CHECK_FALSE(first);
    CHECK_FALSE(second);
    CHECK(run_until(io, [&] { return first && second; }));
    CHECK(cancelled);
}

TEST_CASE("spur::spawn from many threads at once, with no background yet, runs every task once", "[core][extension][concurrency]") {
    auto app = quiet_app();
    net::io_context io;
    auto guard = net::make_work_guard(io);
    spur::Serving(app).start(io.get_executor());
    std::vector<std::thread> runners;
    for (int i = 0; i < 2; ++i) runners.emplace_back([&io] { io.run(); });

    constexpr int threads = 8, per_thread = 50;
    std::atomic<int> ran{0}, accepted{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> spawners;
    for (int t = 0; t < threads; ++t) {
        spawners.emplace_back([&] {
            while (!go.load()) std::this_thread::yield();
            for (int i = 0; i < per_thread; ++i) {
                if (spur::spawn(app, [&ran]() -> spur::Task<> {
                        ++ran;
                        co_return;
                    }))
                    ++accepted;
            }
        });
    }
    go = true;
    for (auto& t : spawners) t.join();
    CHECK(accepted == threads * per_thread);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (ran.load() < threads * per_thread && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    CHECK(ran == threads * per_thread);

    std::atomic<bool> done{false};
    spur::Serving(app).stop([&] { done = true; });
    while (!done.load() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    CHECK(done);
    guard.reset();
    for (auto& t : runners) t.join();
}

TEST_CASE("an extension added late hears the lifecycle it missed, in order, once", "[core][extension][concurrency]") {
    auto app = quiet_app();
    net::io_context io;
    spur::Serving serving(app);
    serving.start(io.get_executor());
    serving.drain();
    std::vector<std::string> during_drain;
    app.extensions().emplace<Recorder>(during_drain);
    CHECK(during_drain == std::vector<std::string>{"frozen", "start", "drain"});
    bool done = false;
    serving.stop([&] { done = true; });
    CHECK(done);
    CHECK(during_drain == std::vector<std::string>{"frozen", "start", "drain", "stop"});

    struct Other final : spur::Extension {
        explicit Other(std::vector<std::string>& e) : inner(e) {}
        void stop(std::function<void()> done) override {
            inner.push_back("stop");
            done();
        }
        std::vector<std::string>& inner;
    };
    std::vector<std::string> after_stop;
    app.extensions().emplace<Other>(after_stop);
    CHECK(after_stop == std::vector<std::string>{"stop"});
    CHECK_FALSE(spur::spawn(app, []() -> spur::Task<> { co_return; }));  // a background made now is stopped
}

// Request lost its RouteMatch: the facts callers need are read from the matched route.
TEST_CASE("route facts come from the matched route: pattern, streaming, cancellation, limits, bad escapes", "[core][extension][concurrency]") {
    auto app = quiet_app();
    std::mutex m;
    std::string pattern = "unset";
    bool cancels = false, streamed = false;
    app.use([&](spur::Request& req, spur::Response&, spur::Next next) -> spur::Task<> {
        {
            std::lock_guard lock(m);
            pattern = std::string(req.route_pattern());
            cancels = req.cancels_on_disconnect();
            streamed = req.body_is_streamed();
        }
        co_await next();
    });
    app.get("/users/:id", [](spur::Request& req, spur::Response& res) { res.send(std::string(req.param("id"))); });
    app.post("/pay", [](spur::Request&, spur::Response& res) { res.send("paid"); }).run_to_completion();
    app.post("/upload", [](spur::Request&, spur::Response& res) { res.send("ok"); }).stream_body();
    app.get("/small", [](spur::Request& req, spur::Response& res) -> spur::Task<> {
        co_await req.read_body();
        res.send(req.body());
    }).body_limit(8);
    spur::testing::Client client(app);

    CHECK(client.get("/users/42").body == "42");
    CHECK(pattern == "/users/:id");
    CHECK(cancels);
    CHECK_FALSE(streamed);

    CHECK(client.post("/pay", "x").status == 200);
    CHECK(pattern == "/pay");
    CHECK_FALSE(cancels);

    CHECK(client.post("/upload", "x").status == 200);
    CHECK(streamed);

    CHECK(client.get("/nowhere").status == 404);
    CHECK(pattern.empty());
    auto wrong = client.del("/users/42");
    CHECK(wrong.status == 405);
    CHECK(pattern.empty());
    CHECK(wrong.header("Allow") == "GET, HEAD, OPTIONS");
    CHECK(client.get("/users/%ZZ").status == 400);
    CHECK(pattern.empty());

    CHECK(client.request("GET", "/small", "12345678").body == "12345678");
    CHECK(client.request("GET", "/small", "123456789").status == 413);
    CHECK(pattern == "/small");
}

TEST_CASE("views and openapi are set up once, before serving, and the document lists every route", "[core][extension][concurrency]") {
    auto app = quiet_app();
    const auto dir = std::filesystem::temp_directory_path() / ("spur_seam_views_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "hello.mustache") << "<p>Hello {{name}}</p>";
    spur::ViewOptions options;
    options.dir = dir;
    spur::views(app, options);
    CHECK_THROWS_AS(spur::views(app, options), std::logic_error);
    spur::openapi(app, {});
    CHECK_THROWS_AS(spur::openapi(app, {}), std::logic_error);
    app.get("/hello/:name", [](spur::Request& req, spur::Response& res) {
        spur::render(req, res, "hello", {{"name", req.param("name")}});
    });
    spur::testing::Client client(app);
    CHECK_THROWS_AS(spur::views(app, options), std::logic_error);
    CHECK_THROWS_AS(spur::openapi(app, {}), std::logic_error);

    auto page = client.get("/hello/ada");
    CHECK(page.status == 200);
    CHECK(page.body == "<p>Hello ada</p>");
    CHECK(page.header("Content-Type") == "text/html; charset=utf-8");
    // Registered after spur::openapi(): the document is built when the app freezes.
    auto doc = boost::json::parse(client.get("/openapi.json").body);
    CHECK(doc.at("paths").as_object().contains("/hello/{name}"));
    CHECK_FALSE(doc.at("paths").as_object().contains("/openapi.json"));
    std::filesystem::remove_all(dir);
}
