#include <spur/middleware/timeout.hpp>

#include <spur/app.hpp>
#include <spur/testing/client.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

using namespace spur;
using namespace std::chrono_literals;

namespace {
Task<> sleep_for(std::chrono::milliseconds d) {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, d);
    co_await t.async_wait(boost::asio::use_awaitable);
}
}  // namespace

TEST_CASE("a handler past its deadline is cancelled and answered 503", "[middleware][timeout]") {
    App app;
    bool finished = false;
    bool unwound = false;
    app.get("/slow", middleware::timeout(100ms), [&](Request&, Response& res) -> Task<> {
        struct Guard {
            bool& flag;
            ~Guard() { flag = true; }
        } guard{unwound};
        co_await sleep_for(10s);
        finished = true;
        res.send("too late");
    });
    testing::Client c(app);
    auto start = std::chrono::steady_clock::now();
    auto r = c.get("/slow");
    CHECK(std::chrono::steady_clock::now() - start < 5s);
    CHECK(r.status == 503);
    CHECK(r.json().at("error").at("code") == "timeout");
    CHECK(unwound);        // the handler's frame is gone...
    CHECK_FALSE(finished);  // ...and it never got past its wait
}

TEST_CASE("a handler within its deadline answers normally", "[middleware][timeout]") {
    App app;
    app.get("/quick", middleware::timeout(2s, 504), [](Request&, Response& res) -> Task<> {
        co_await sleep_for(10ms);
        res.send("done");
    });
    app.get("/sync", middleware::timeout(2s), [](Request&, Response& res) { res.send("sync"); });
    app.get("/throws", middleware::timeout(2s), [](Request&, Response&) -> Task<> {
        co_await sleep_for(1ms);
        throw HttpError(409, "conflict", "Conflict");
    });
    testing::Client c(app);
    CHECK(c.get("/quick").body == "done");
    CHECK(c.get("/sync").body == "sync");
    CHECK(c.get("/throws").status == 409);  // the handler's own error, not a timeout
}

TEST_CASE("504 can be chosen and other statuses are refused", "[middleware][timeout]") {
    App app;
    app.get("/slow", middleware::timeout(50ms, 504), [](Request&, Response&) -> Task<> { co_await sleep_for(5s); });
    testing::Client c(app);
    CHECK(c.get("/slow").status == 504);
    CHECK_THROWS_AS(middleware::timeout(1s, 500), std::invalid_argument);
}
