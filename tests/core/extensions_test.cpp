#include <spur/app.hpp>
#include <spur/extension.hpp>
#include <spur/serving.hpp>
#include <spur/testing/client.hpp>

#include "support/captured_log.hpp"
#include "support/test_server.hpp"

#include <boost/asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace net = boost::asio;

namespace {

// Writes each lifecycle event it hears, as "name:event", into a shared journal.
struct Journal {
    std::mutex mutex;
    std::vector<std::string> lines;
    void add(std::string line) {
        std::lock_guard lock(mutex);
        lines.push_back(std::move(line));
    }
};

struct OrderRecorder : spur::Extension {
    OrderRecorder(Journal& j, std::string n) : journal(j), name(std::move(n)) {}
    void frozen(const spur::App&) override { journal.add(name + ":frozen"); }
    void start(const net::any_io_executor&) override { journal.add(name + ":start"); }
    void drain() noexcept override { journal.add(name + ":drain"); }
    void stop(std::function<void()> done) override {
        journal.add(name + ":stop");
        done();
    }
    Journal& journal;
    std::string name;
};
struct First final : OrderRecorder {
    using OrderRecorder::OrderRecorder;
};
struct Second final : OrderRecorder {
    using OrderRecorder::OrderRecorder;
};
struct Late final : OrderRecorder {
    using OrderRecorder::OrderRecorder;
};

// The guide's example: per-app state a handler reads.
struct Quotas final : spur::Extension {
    explicit Quotas(int n) : per_minute(n) {}
    int per_minute;
};

// Keeps the `done` it is given, for the test to call when it likes.
struct Holder final : spur::Extension {
    void stop(std::function<void()> d) override { done = std::move(d); }
    std::function<void()> done;
};
struct Stutter final : spur::Extension {  // calls done twice
    void stop(std::function<void()> done) override {
        done();
        done();
    }
};

}  // namespace

TEST_CASE("an app keeps one extension per type: emplace returns the one there, get throws for a missing one", "[core][extension][concurrency]") {
    spur::App app;
    CHECK(app.extensions().find<Quotas>() == nullptr);
    CHECK_THROWS_AS(app.extensions().get<Quotas>(), std::logic_error);
    auto& quotas = app.extensions().emplace<Quotas>(60);
    CHECK(&app.extensions().emplace<Quotas>(5) == &quotas);  // not replaced, 5 unused
    CHECK(app.extensions().get<Quotas>().per_minute == 60);
    CHECK(app.extensions().find<Holder>() == nullptr);  // another type is another slot

    app.get("/quota", [](spur::Request& req, spur::Response& res) {
        res.json({{"per_minute", req.app().extensions().get<Quotas>().per_minute}});
    });
    spur::testing::Client client(app);
    auto r = client.get("/quota");
    CHECK(r.status == 200);
    CHECK(r.json().at("per_minute") == 60);
}

TEST_CASE("extensions hear frozen, start, drain and stop once each, in the order they were added", "[core][extension][concurrency]") {
    Journal journal;
    spur::App app;
    app.extensions().emplace<First>(journal, "first");
    app.extensions().emplace<Second>(journal, "second");
    CHECK_FALSE(app.extensions().frozen());

    net::io_context io;
    spur::Serving serving(app);
    CHECK(app.extensions().frozen());
    spur::Serving again(app);  // a second handle: nothing happens twice
    serving.start(io.get_executor());
    again.start(io.get_executor());
    CHECK_FALSE(app.extensions().draining());
    serving.drain();
    CHECK(app.extensions().draining());
    int stopped = 0;
    serving.stop([&] { ++stopped; });
    CHECK(stopped == 1);
    again.stop([&] { ++stopped; });  // already stopped: done at once
    CHECK(stopped == 2);
    CHECK(journal.lines == std::vector<std::string>{"first:frozen", "second:frozen", "first:start", "second:start",
                                                    "first:drain", "second:drain", "first:stop", "second:stop"});
}

TEST_CASE("an extension added while the app serves hears at once what it missed", "[core][extension][concurrency]") {
    Journal journal;
    spur::App app;
    net::io_context io;
    spur::Serving serving(app);
    serving.start(io.get_executor());
    app.extensions().emplace<Late>(journal, "started");
    CHECK(journal.lines == std::vector<std::string>{"started:frozen", "started:start"});

    Journal after_stop;
    serving.stop([] {});
    app.extensions().emplace<First>(after_stop, "stopped");
    CHECK(after_stop.lines ==
          std::vector<std::string>{"stopped:frozen", "stopped:start", "stopped:drain", "stopped:stop"});
}

TEST_CASE("stop waits for every extension's done, and one that calls done twice counts once", "[core][extension][concurrency]") {
    spur::App app;
    app.extensions().emplace<Stutter>();
    auto& holder = app.extensions().emplace<Holder>();
    net::io_context io;
    spur::Serving serving(app);
    serving.start(io.get_executor());
    int stopped = 0;
    serving.stop([&] { ++stopped; });
    CHECK(stopped == 0);  // Holder has not finished
    REQUIRE(holder.done);
    holder.done();
    CHECK(stopped == 1);
    holder.done();  // a second call changes nothing
    CHECK(stopped == 1);
}

TEST_CASE("threads adding the same extension at once make one, and all of them get it", "[core][extension][concurrency]") {
    struct Counted final : spur::Extension {
        explicit Counted(std::atomic<int>& made) { ++made; }
    };
    spur::App app;
    std::atomic<int> made{0};
    std::vector<Counted*> seen(8, nullptr);
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < seen.size(); ++i) {
        threads.emplace_back([&, i] {
            while (!go.load()) std::this_thread::yield();
            seen[i] = &app.extensions().emplace<Counted>(made);
        });
    }
    go = true;
    for (auto& t : threads) t.join();
    CHECK(made == 1);
    for (auto* p : seen) CHECK(p == seen.front());
    CHECK(app.extensions().find<Counted>() == seen.front());
}

TEST_CASE("a server stops at drain_timeout for an extension that never finishes, and a late done is harmless", "[core][server][extension][concurrency]") {
    spur::test::CapturedLog log;
    spur::App app(spur::AppOptions{log.sink()});
    auto& holder = app.extensions().emplace<Holder>();
    app.get("/", [](spur::Request&, spur::Response& res) { res.send("ok"); });
    {
        auto options = spur::test::test_options();
        options.drain_timeout = 200ms;
        spur::test::TestServer server(app, options);
        spur::test::RawConnection c(server.port());
        c.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        auto r = c.read_response();
        REQUIRE(r);
        CHECK(r->result_int() == 200);
        server.stop();  // returns once the deadline passed, without the extension's done
    }
    CHECK(log.contains("extensions still stopping"));
    REQUIRE(holder.done);
    holder.done();  // the server is gone: this must not reach it
    CHECK(app.extensions().draining());
}
