// spur::mysql::Jobs under handlers that misbehave (one that never returns, one that throws
// something that is no std::exception), a stop at the worst moment, a database out of reach.
#include <spur/mysql/jobs.hpp>

#include <spur/app.hpp>

#include "mysql/jobs_support.hpp"
#include "mysql/support.hpp"
#include "support/test_server.hpp"

#include <atomic>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

using namespace spur;
using namespace std::chrono_literals;
using namespace spur::test::jobs;
using spur::test::eventually;
using spur::test::run;

TEST_CASE("a handler that never returns is cancelled at the timeout, its run failed, and the job ends dead", "[mysql][jobs]") {
    Db db;
    auto o = options_for("jobs_timeout");
    o.timeout = 150ms;
    o.backoff = 10ms;
    db.reset(o);
    Instance app(o);
    std::atomic<int> runs{0}, cancelled{0};
    app.jobs.handle("hangs", [&](const mysql::Job&) -> Task<> {
        ++runs;
        boost::asio::steady_timer forever(co_await boost::asio::this_coro::executor, std::chrono::hours(24));
        try {
            co_await forever.async_wait(boost::asio::use_awaitable);
        } catch (const boost::system::system_error&) {
            ++cancelled;
            throw;
        }
    });
    std::atomic<int> quick{0};
    app.jobs.handle("quick", [&](const mysql::Job&) -> Task<> {
        ++quick;
        co_return;
    });
    const auto id = db.enqueue(app.jobs, "hangs", "{}", {.max_attempts = 2});
    app.start();
    // Without a bound its lease would be renewed, and its worker held, for ever.
    REQUIRE(eventually([&] { return db.job(app.jobs, id).state == mysql::JobState::dead; }, 3000ms));
    const auto j = db.job(app.jobs, id);
    CHECK(j.attempts == 2);
    CHECK(j.last_error == "timed out after 150 ms");
    CHECK_FALSE(j.lease_until.has_value());
    CHECK(runs == 2);
    CHECK(cancelled == 2);
    // The workers are free again.
    db.enqueue(app.jobs, "quick");
    CHECK(eventually([&] { return quick == 1; }, 3000ms));
    app.stop();
}

TEST_CASE("a handler that throws no std::exception fails its run like any other, and the worker goes on", "[mysql][jobs]") {
    Db db;
    auto o = options_for("jobs_odd_throw");
    o.concurrency = 1;
    db.reset(o);
    Instance app(o);
    app.jobs.handle("odd", [](const mysql::Job&) -> Task<> {
        throw 42;
        co_return;
    });
    std::atomic<int> next{0};
    app.jobs.handle("next", [&](const mysql::Job&) -> Task<> {
        ++next;
        co_return;
    });
    const auto odd = db.enqueue(app.jobs, "odd", "{}", {.max_attempts = 1});
    db.enqueue(app.jobs, "next");
    app.start();
    REQUIRE(eventually([&] { return db.job(app.jobs, odd).state == mysql::JobState::dead; }, 3000ms));
    CHECK(db.job(app.jobs, odd).last_error == "non-standard exception");
    CHECK(eventually([&] { return next == 1; }, 3000ms));
    app.stop();
}

TEST_CASE("Jobs refuses a timeout that is not positive", "[mysql][jobs]") {
    mysql::Pool pool(spur::test::test_db(1));
    auto o = options_for("jobs_bad_timeout");
    o.timeout = 0ms;
    CHECK_THROWS_AS(mysql::Jobs(pool, o), std::invalid_argument);
}

TEST_CASE("a stop while a job's outcome is being recorded lets it be recorded: the job is done, not run again", "[mysql][jobs]") {
    Db db;
    auto o = options_for("jobs_stop_finish");
    o.concurrency = 1;
    o.lease = 3000ms;  // no renewal while the test holds the row
    db.reset(o);
    Instance app(o);
    std::atomic<bool> started{false}, release{false};
    app.jobs.handle("slow", [&](const mysql::Job&) { return hold(started, release); });
    const auto id = db.enqueue(app.jobs, "slow");
    app.start();
    REQUIRE(eventually([&] { return started.load(); }));

    // The test holds the job's row, so recording the outcome waits for it.
    mysql::Pool locker(spur::test::test_db(1));
    boost::asio::io_context lio;
    std::optional<mysql::PooledConnection> lease;
    run(lio, [&]() -> Task<> {
        lease.emplace(co_await locker.acquire());
        co_await (*lease)->begin();
        co_await (*lease)->execute("SELECT id FROM jobs_stop_finish WHERE id = ? FOR UPDATE", id);
    }());
    release = true;
    REQUIRE(eventually([&] {
        return run(db.io, db.pool.execute("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE "
                                          "'UPDATE jobs_stop_finish SET state = ''done''%'"))
                   .front()
                   .get<std::int64_t>(0) == 1;
    }));
    std::thread stopper([&] { app.stop(); });
    // A stop that cut the statement would leave it to the pool to drain: give it the time to.
    eventually([&] { return app.pool.stats().abandoned > 0; }, 400ms);
    run(lio, (*lease)->rollback());
    stopper.join();
    CHECK(app.pool.stats().abandoned == 0);
    const auto j = db.job(app.jobs, id);
    CHECK(j.state == mysql::JobState::done);
    CHECK(j.attempts == 1);
}

TEST_CASE("with the database out of reach, the workers log that once, not once per worker per poll", "[mysql][jobs]") {
    auto config = spur::test::test_db(2);
    config.host = "localhost";
    config.socket = "/nonexistent/spur-jobs-down.sock";
    mysql::Pool pool(config);
    auto o = options_for("jobs_db_down");
    o.poll = 5ms;
    o.concurrency = 2;
    mysql::Jobs jobs(pool, o);
    std::mutex m;
    std::vector<std::string> lines;
    App app(AppOptions{.log = [&](LogLevel, std::string_view line) {
        std::lock_guard lock(m);
        if (line.find("jobs:") != std::string_view::npos) lines.emplace_back(line);
    }});
    jobs.serve(app);
    auto logged = [&] {
        std::lock_guard lock(m);
        return lines.size();
    };
    {
        spur::test::TestServer server(app);
        REQUIRE(eventually([&] { return logged() >= 1; }));
        // Two workers failing every 5 ms wrote a line each time: hundreds in this wait.
        CHECK_FALSE(eventually([&] { return logged() >= 2; }, 300ms));
    }
    std::lock_guard lock(m);
    REQUIRE(lines.size() == 1);
    CHECK(lines.front().find("jobs: looking for due jobs failed: ") != std::string::npos);
}
