// A client that disconnects mid-request cancels the handler, and with it the statement the
// handler awaits — on the server too (KILL QUERY), not just in the client library.
#include <spur/mysql/pool.hpp>
#include <spur/server.hpp>

#include "mysql/support.hpp"
#include "support/test_server.hpp"
#if SPUR_TEST_HTTP2
#include "support/h2_client.hpp"
#endif

#include <atomic>

using namespace std::chrono_literals;

namespace {
// Statements whose text starts with `prefix` running on the server now.
std::uint64_t running(const std::string& prefix) {
    boost::asio::io_context io;
    spur::mysql::Pool pool(spur::test::test_db(1));
    return spur::test::run(io, [&]() -> spur::Task<std::uint64_t> {
        auto r = co_await pool.execute(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE CONCAT(?, '%')", prefix);
        co_return r.front().get<std::uint64_t>(0);
    }());
}
}  // namespace

TEST_CASE("a client that disconnects stops the query its handler awaits, on the server too", "[mysql][kill][concurrency]") {
    spur::mysql::Pool pool(spur::test::test_db(2));
    spur::App app;
    std::atomic<bool> cancelled{false};
    app.get("/report", [&](spur::Request&, spur::Response& res) -> spur::Task<> {
        try {
            co_await pool.execute("SELECT SLEEP(30) AS abandoned_by_disconnect");
        } catch (const boost::system::system_error& e) {
            cancelled = e.code() == boost::asio::error::operation_aborted;
            throw;
        }
        res.send("done");
    });
    spur::test::TestServer server(app);
    const std::string statement = "SELECT SLEEP(30) AS abandoned_by_disconnect";
    {
        spur::test::RawConnection c(server.port());
        c.send("GET /report HTTP/1.1\r\nHost: x\r\n\r\n");
        REQUIRE(spur::test::eventually([&] { return running(statement) == 1; }));
    }
    CHECK(spur::test::eventually([&] { return cancelled.load(); }, 3s));
    CHECK(spur::test::eventually([&] { return running(statement) == 0; }, 5s));
    // The pool serves the next request with a healthy connection.
    auto r = spur::test::round_trip(server.port(), "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(r);
    CHECK(r->result_int() == 404);
}

#if SPUR_TEST_HTTP2
TEST_CASE("an HTTP/2 client that resets its stream stops the query its handler awaits, and its hooks see 499",
          "[mysql][kill][concurrency][http2]") {
    spur::mysql::Pool pool(spur::test::test_db(2));
    spur::App app;
    std::atomic<bool> cancelled{false};
    std::atomic<int> finished_status{0};
    app.get("/report", [&](spur::Request&, spur::Response& res) -> spur::Task<> {
        res.on_finish([&](spur::Response& r) { finished_status = r.status(); });
        try {
            co_await pool.execute("SELECT SLEEP(30) AS abandoned_by_reset");
        } catch (const boost::system::system_error& e) {
            cancelled = e.code() == boost::asio::error::operation_aborted;
            throw;
        }
        res.send("done");
    });
    app.get("/ping", [](spur::Request&, spur::Response& res) { res.send("pong"); });
    auto options = spur::test::test_options();
    options.http2.cleartext = true;
    spur::test::TestServer server(app, options);
    const std::string statement = "SELECT SLEEP(30) AS abandoned_by_reset";
    spur::test::H2Client c(server.port());
    const auto report = c.request("GET", "/report");
    REQUIRE(spur::test::eventually([&] { return running(statement) == 1; }));
    c.reset(report);
    CHECK(spur::test::eventually([&] { return cancelled.load(); }, 3s));
    CHECK(spur::test::eventually([&] { return running(statement) == 0; }, 5s));
    CHECK(spur::test::eventually([&] { return finished_status.load() == 499; }, 3s));
    // The same connection goes on, and the pool serves it.
    auto& pong = c.answer(c.request("GET", "/ping"));
    CHECK(pong.status == 200);
}
#endif
