// Statements through the pool: every type round-trips, injection strings stay data, server errors
// carry their numbers, multi-statement queries, max_statement_time.
#include <spur/mysql/pool.hpp>

#include "support.hpp"

#include <optional>

using namespace spur;
using namespace spur::mysql;
using spur::test::reset_table;
using spur::test::run;
using spur::test::test_db;

TEST_CASE("every supported type round-trips - NULL and utf8mb4 included", "[mysql]") {
    boost::asio::io_context io;
    Pool pool(test_db());
    run(io, [&]() -> Task<> {
        co_await reset_table(pool,
                             "CREATE TABLE types_t (id BIGINT AUTO_INCREMENT PRIMARY KEY, i BIGINT, u BIGINT UNSIGNED, "
                             "d DOUBLE, s VARCHAR(100), t MEDIUMTEXT, b BLOB, dt DATETIME(6), dc DECIMAL(10,2), f TINYINT(1)) "
                             "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
        const std::string emoji = "héllo 🌍 — 世界";
        const std::string bytes("\x00\xff\x01\xfe'\"\\", 7);
        const mysql::DateTime when{2024, 2, 29, 23, 59, 58, 123456};
        auto ins = co_await pool.execute(
            "INSERT INTO types_t (i, u, d, s, t, b, dt, dc, f) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            std::int64_t{-9007199254740993}, std::uint64_t{18446744073709551615ull}, 3.25, emoji,
            std::string(70000, 'x'), Blob(bytes), when, "12345678.90", true);
        CHECK(ins.affected_rows == 1);
        CHECK(ins.last_insert_id >= 1);
        auto nul = co_await pool.execute("INSERT INTO types_t (i, s, dt) VALUES (?, ?, ?)", nullptr,
                                         std::optional<std::string>{}, std::nullopt);
        CHECK(nul.last_insert_id == ins.last_insert_id + 1);

        auto r = co_await pool.execute("SELECT i, u, d, s, t, b, dt, dc, f FROM types_t WHERE id = ?", ins.last_insert_id);
        REQUIRE(r.size() == 1);
        const Row& row = r.front();
        CHECK(row.get<std::int64_t>("i") == -9007199254740993);
        CHECK(row.get<std::uint64_t>("u") == 18446744073709551615ull);
        CHECK(row.get<double>("d") == 3.25);
        CHECK(row.get<std::string>("s") == emoji);
        CHECK(row.get<std::string>("t").size() == 70000);
        CHECK(row["b"].kind() == Value::Kind::blob);
        CHECK(row.get<std::string>("b") == bytes);
        CHECK(row.get<mysql::DateTime>("dt") == when);
        CHECK(row.get<std::string>("dc") == "12345678.90");
        CHECK(row.get<double>("dc") == Approx(12345678.90));
        CHECK(row.get<bool>("f"));
        CHECK(row.get<std::int64_t>(0) == -9007199254740993);  // by index too

        auto n = co_await pool.execute("SELECT i, s, dt FROM types_t WHERE id = ?", nul.last_insert_id);
        CHECK(n.front()["i"].is_null());
        CHECK(n.front().get<std::optional<std::string>>("s") == std::nullopt);
        CHECK_THROWS_AS(n.front().get<std::int64_t>("i"), Error);  // NULL is not an integer
        CHECK_THROWS_AS(n.front()["missing"], Error);
    }());
}

TEST_CASE("SQL injection strings are stored verbatim as data", "[mysql]") {
    boost::asio::io_context io;
    Pool pool(test_db());
    run(io, [&]() -> Task<> {
        co_await reset_table(pool, "CREATE TABLE inj_t (id INT AUTO_INCREMENT PRIMARY KEY, v TEXT) DEFAULT CHARSET=utf8mb4");
        const std::vector<std::string> nasty = {"'; DROP TABLE inj_t; --", "\" OR 1=1 --", "\\'; SELECT SLEEP(5); #",
                                                "Robert'); DELETE FROM inj_t;--", std::string("nul\0byte", 8),
                                                "?", "%_%"};
        for (const auto& s : nasty) co_await pool.execute("INSERT INTO inj_t (v) VALUES (?)", s);
        auto all = co_await pool.execute("SELECT v FROM inj_t ORDER BY id");
        REQUIRE(all.size() == nasty.size());
        for (std::size_t i = 0; i < nasty.size(); ++i) CHECK(all.rows[i].get<std::string>(0) == nasty[i]);
        auto like = co_await pool.execute("SELECT COUNT(*) FROM inj_t WHERE v = ?", "\" OR 1=1 --");
        CHECK(like.front().get<std::int64_t>(0) == 1);
    }());
}

TEST_CASE("server errors carry the error number and SQLSTATE", "[mysql]") {
    boost::asio::io_context io;
    Pool pool(test_db());
    run(io, [&]() -> Task<> {
        co_await reset_table(pool, "CREATE TABLE dup_t (email VARCHAR(100) PRIMARY KEY) DEFAULT CHARSET=utf8mb4");
        co_await pool.execute("INSERT INTO dup_t VALUES (?)", "a@example.com");
        try {
            co_await pool.execute("INSERT INTO dup_t VALUES (?)", "a@example.com");
            FAIL("duplicate accepted");
        } catch (const Error& e) {
            CHECK(e.number() == 1062);
            CHECK(e.sqlstate() == "23000");
            CHECK(e.duplicate_key());
            CHECK_FALSE(e.connection_lost());
        }
        try {
            co_await pool.execute("SELEC broken");
            FAIL("syntax error accepted");
        } catch (const Error& e) {
            CHECK(e.number() == 1064);
            CHECK(e.sqlstate() == "42000");
        }
        CHECK_THROWS_AS(co_await pool.execute("SELECT ?", 1, 2), Error);  // wrong parameter count
        // the pool is still healthy after all that
        {
            const auto got = (co_await pool.execute("SELECT 1")).front().get<int>(0);
            CHECK(got == 1);
        }
    }());
}

TEST_CASE("query() runs several statements only with multi_statements - and statements beyond the cache still work", "[mysql]") {
    boost::asio::io_context io;
    {
        Pool strict(test_db(1));  // the default
        run(io, [&]() -> Task<> {
            try {
                co_await strict.query("SELECT 1; DROP TABLE IF EXISTS never_dropped_t");
                FAIL("a second statement ran");
            } catch (const Error& e) {
                CHECK(e.number() == 1064);  // the server sees one statement with trailing junk
            }
        }());
    }
    io.restart();
    auto config = test_db(1);
    config.statement_cache = 2;
    config.multi_statements = true;
    Pool pool(config);
    run(io, [&]() -> Task<> {
        auto r = co_await pool.query("DROP TABLE IF EXISTS multi_t; CREATE TABLE multi_t (id INT); "
                                     "INSERT INTO multi_t VALUES (1), (2); SELECT COUNT(*) AS n FROM multi_t");
        CHECK(r.front().get<int>("n") == 2);
        for (int round = 0; round < 3; ++round)
            for (int k = 0; k < 5; ++k) {
                auto q = co_await pool.execute("SELECT ? * " + std::to_string(k), round);
                CHECK(q.front().get<int>(0) == round * k);
            }
        // A server error in a later statement ends the batch; the connection stays usable and
        // its transaction state known (what a migrator needs after a failed migration).
        auto c = co_await pool.acquire();
        co_await c->begin();
        bool failed = false;
        try {
            co_await c->query("INSERT INTO multi_t VALUES (3); INSERT INTO multi_absent_t VALUES (1); INSERT INTO multi_t VALUES (4)");
        } catch (const Error& e) {
            failed = e.number() == 1146;
        }
        CHECK(failed);
        CHECK_FALSE(c->broken());
        auto mid = co_await c->query("SELECT COUNT(*) FROM multi_t");
        CHECK(mid.front().get<int>(0) == 3);  // the statement after the error never ran
        CHECK(c->in_transaction());
        co_await c->rollback();
    }());
}

TEST_CASE("max_statement_time stops a long statement on the server with error 1969", "[mysql]") {
    boost::asio::io_context io;
    auto config = test_db(1);
    config.max_statement_time = std::chrono::milliseconds(300);
    Pool pool(config);
    run(io, [&]() -> Task<> {
        const auto start = std::chrono::steady_clock::now();
        try {
            co_await pool.execute("SELECT SLEEP(5)");
            FAIL("the statement was not stopped");
        } catch (const Error& e) {
            CHECK(e.number() == 1969);
        }
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
        // The connection stays usable, and the limit is the session's, checked on the server.
        auto r = co_await pool.execute("SELECT @@max_statement_time");
        CHECK(r.front().get<double>(0) == Approx(0.3));
    }());
}
