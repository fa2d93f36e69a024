// Rows read into described structs (query_as, query_one_as, rows_as): members by column name,
// NULL, missing, extra and mistyped columns, spur's wrapper types, on a pool, a leased
// connection, in a transaction and with idempotent.
#include <spur/mysql/rows.hpp>
#include <spur/types.hpp>

#include "mysql/support.hpp"
#include "support/eventually_async.hpp"

#include <boost/asio/detached.hpp>
#include <boost/describe/enum.hpp>
#include <boost/describe/class.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

using spur::Task;
using namespace spur::mysql;
using spur::test::reset_table;
using spur::test::run;
using spur::test::test_db;
using Catch::Contains;

namespace rows_test {
using spur::mysql::DateTime;  // not spur::DateTime, which another test file's `using namespace spur` would bring

enum class Mood { calm, busy };
BOOST_DESCRIBE_ENUM(Mood, calm, busy)

struct Person {
    std::int64_t id = 0;
    std::string name;
    std::int32_t age = 0;
    std::uint16_t shoe = 0;
    double height = 0;
    bool active = false;
    std::optional<std::string> nickname;
    std::optional<std::int64_t> score;
};
BOOST_DESCRIBE_STRUCT(Person, (), (id, name, age, shoe, height, active, nickname, score))

struct Event {
    std::uint64_t id = 0;
    DateTime at;
    std::chrono::system_clock::time_point when;
    std::optional<DateTime> ended;
    Mood mood = Mood::calm;
    double price = 0;
    std::int64_t whole = 0;
};
BOOST_DESCRIBE_STRUCT(Event, (), (id, at, when, ended, mood, price, whole))

struct Named {
    std::int64_t id = 0;
    std::string name;
};
BOOST_DESCRIBE_STRUCT(Named, (), (id, name))

struct MaybeNamed {
    std::int64_t id = 0;
    std::optional<std::string> name;
};
BOOST_DESCRIBE_STRUCT(MaybeNamed, (), (id, name))

struct Counted {
    std::int32_t n = 0;
};
BOOST_DESCRIBE_STRUCT(Counted, (), (n))

struct Tiny {
    std::int8_t small = 0;
    std::uint32_t unsigned_ = 0;
};
BOOST_DESCRIBE_STRUCT(Tiny, (), (small, unsigned_))

struct Account {
    spur::Int<1, 100> level;
    spur::String<1, 5> code;
    spur::Email email;
    spur::String<0, 10, "^[a-z]+$"> tag;
};
BOOST_DESCRIBE_STRUCT(Account, (), (level, code, email, tag))

struct Slept {
    std::int64_t slept = 0;
    std::uint64_t id = 0;
    std::string name;
};
BOOST_DESCRIBE_STRUCT(Slept, (), (slept, id, name))

// The message of the Error `task` throws, or "" when it throws none.
template <class T>
Task<std::string> error_of(Task<T> task) {
    std::string message;
    try {
        co_await std::move(task);
    } catch (const Error& e) {
        message = e.what();
    }
    co_return message;
}

// Kills server connection `id` once it runs a SELECT SLEEP (see failover_test.cpp).
Task<> kill_once_running(std::uint64_t id) {
    auto killer = co_await Connection::connect(test_db());
    auto running = [&]() -> Task<bool> {
        auto r = co_await killer->execute(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ? AND INFO LIKE 'SELECT SLEEP%'", id);
        co_return r.front().get<std::uint64_t>(0) == 1;
    };
    if (co_await spur::test::eventually_async(running)) co_await killer->query("KILL CONNECTION " + std::to_string(id));
    co_await killer->close();
}

}  // namespace rows_test

namespace rows_test {

TEST_CASE("query_as reads integers, text, doubles, bool and optionals by column name, in any column order", "[mysql]") {
    boost::asio::io_context io;
    Pool pool(test_db());
    run(io, [&]() -> Task<> {
        co_await reset_table(pool, "CREATE TABLE rows_people (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) NOT NULL, "
                                   "age INT NOT NULL, shoe SMALLINT UNSIGNED NOT NULL, height DOUBLE NOT NULL, "
                                   "active TINYINT(1) NOT NULL, nickname VARCHAR(50), score BIGINT) DEFAULT CHARSET=utf8mb4");
        co_await pool.execute("INSERT INTO rows_people (name, age, shoe, height, active, nickname, score) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?)", "Ada 🌍", 36, 41, 1.72, true, "countess", -9007199254740993);
        co_await pool.execute("INSERT INTO rows_people (name, age, shoe, height, active) VALUES (?, ?, ?, ?, ?)",
                              "Bob", -1, 65535, 2.0, false);
        auto people = co_await pool.query_as<Person>(
            "SELECT score, nickname, active, height, shoe, age, name, id FROM rows_people ORDER BY id");
        REQUIRE(people.size() == 2);
        CHECK(people[0].id == 1);
        CHECK(people[0].name == "Ada 🌍");
        CHECK(people[0].age == 36);
        CHECK(people[0].shoe == 41);
        CHECK(people[0].height == 1.72);
        CHECK(people[0].active);
        CHECK(people[0].nickname == std::optional<std::string>("countess"));
        CHECK(people[0].score == std::optional<std::int64_t>(-9007199254740993));
        CHECK(people[1].age == -1);
        CHECK(people[1].shoe == 65535);
        CHECK_FALSE(people[1].active);
        CHECK(people[1].nickname == std::nullopt);
        CHECK(people[1].score == std::nullopt);

        auto none = co_await pool.query_as<Person>("SELECT * FROM rows_people WHERE id = ?", 99);
        CHECK(none.empty());
    }());
}

TEST_CASE("query_as reads date-times, time points, described enums and DECIMAL columns", "[mysql]") {
    boost::asio::io_context io;
    Pool pool(test_db());
    run(io, [&]() -> Task<> {
        co_await reset_table(pool, "CREATE TABLE rows_events (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, "
                                   "at DATETIME(6) NOT NULL, mood ENUM('calm', 'busy') NOT NULL, price DECIMAL(10,2) NOT NULL)");
        const DateTime at{2024, 2, 29, 23, 59, 58, 123456};
        co_await pool.execute("INSERT INTO rows_events (at, mood, price) VALUES (?, ?, ?)", at, "busy", "12.50");
        auto events = co_await pool.query_as<Event>(
            "SELECT id, at, at AS `when`, NULL AS ended, mood, price, CAST(price * 2 AS DECIMAL(10,0)) AS whole FROM rows_events");
        REQUIRE(events.size() == 1);
        CHECK(events[0].id == 1);
        CHECK(events[0].at == at);
        CHECK(events[0].when == at.to_time_point());
        CHECK(events[0].ended == std::nullopt);
        CHECK(events[0].mood == Mood::busy);
        CHECK(events[0].price == 12.5);
        CHECK(events[0].whole == 25);

        auto bad = pool.query_as<Event>("SELECT id, at, at AS `when`, at AS ended, 'sulky' AS mood, price, 1 AS whole "
                                        "FROM rows_events");
        auto message = co_await error_of(std::move(bad));
        CHECK_THAT(message, Contains("column 'mood'") && Contains("member 'mood'") && Contains("calm, busy"));
    }());
}

TEST_CASE("NULL reads as nullopt into an optional member and is an Error naming the column for any other", "[mysql]") {
    boost::asio::io_context io;
    Pool pool(test_db());
    run(io, [&]() -> Task<> {
        auto maybe = co_await pool.query_as<MaybeNamed>("SELECT 1 AS id, NULL AS name UNION ALL SELECT 2, 'two'");
        REQUIRE(maybe.size() == 2);
        CHECK(maybe[0].name == std::nullopt);
        CHECK(maybe[1].name == std::optional<std::string>("two"));

        auto task = pool.query_as<Named>("SELECT 2 AS id, 'two' AS name UNION ALL SELECT 1, NULL");
        auto message = co_await error_of(std::move(task));
        CHECK_THAT(message, Contains("rows_test::Named") && Contains("column 'name' of row 2") &&
                                Contains("member 'name'") && Contains("NULL"));
    }());
}

TEST_CASE("a column missing from the result is an Error naming it - optional members included", "[mysql]") {
    boost::asio::io_context io;
    Pool pool(test_db());
    run(io, [&]() -> Task<> {
        auto plain = pool.query_as<Named>("SELECT 1 AS id");
        auto message = co_await error_of(std::move(plain));
        CHECK_THAT(message, Contains("missing column 'name'") && Contains("columns are: id"));

        auto optional = pool.query_as<MaybeNamed>("SELECT 1 AS id");
        message = co_await error_of(std::move(optional));
        CHECK_THAT(message, Contains("missing column 'name'"));

        // Checked against the columns, not the rows: an empty result is no excuse.
        auto empty = pool.query_as<Named>("SELECT 1 AS id FROM DUAL WHERE 1 = 0");
        message = co_await error_of(std::move(empty));
        CHECK_THAT(message, Contains("missing column 'name'"));

        auto no_result = pool.query_as<Named>("SET @rows_test = 1");
        message = co_await error_of(std::move(no_result));
        CHECK_THAT(message, Contains("no result set"));
    }());
}

TEST_CASE("a column no member takes is an Error naming it, and so is a duplicated column name", "[mysql]") {
    boost::asio::io_context io;
    Pool pool(test_db());
    run(io, [&]() -> Task<> {
        auto extra = pool.query_as<Named>("SELECT 1 AS id, 'a' AS name, 2 AS spare");
        auto message = co_await error_of(std::move(extra));
        CHECK_THAT(message, Contains("extra column 'spare'") && !Contains("missing"));

        auto renamed = pool.query_as<Named>("SELECT 1 AS id, 'a' AS nom");
        message = co_await error_of(std::move(renamed));
        CHECK_THAT(message, Contains("missing column 'name'") && Contains("extra column 'nom'"));

        auto twice = pool.query_as<Named>("SELECT 1 AS id, 'a' AS name, 2 AS id");
        message = co_await error_of(std::move(twice));
        CHECK_THAT(message, Contains("two columns named 'id'"));
    }());
}

TEST_CASE("a column renamed with AS reaches the member of its new name - and rows_as reads a Result in hand", "[mysql]") {
    boost::asio::io_context io;
    Pool pool(test_db());
    run(io, [&]() -> Task<> {
        co_await reset_table(pool, "CREATE TABLE rows_renamed (pk BIGINT PRIMARY KEY, label VARCHAR(20) NOT NULL)");
        co_await pool.execute("INSERT INTO rows_renamed VALUES (?, ?), (?, ?)", 1, "one", 2, "two");
        auto rows = co_await pool.query_as<Named>("SELECT label AS name, pk AS id FROM rows_renamed ORDER BY pk");
        REQUIRE(rows.size() == 2);
        CHECK(rows[1].id == 2);
        CHECK(rows[1].name == "two");

        // A Result in hand reads the same way, from the text protocol too.
        auto text = co_await pool.query("SELECT pk AS id, label AS name FROM rows_renamed ORDER BY pk");
        auto read = rows_as<Named>(text);
        REQUIRE(read.size() == 2);
        CHECK(read[0].id == 1);
        CHECK(read[0].name == "one");
        CHECK(one_as<Named>(Result{{}, text.columns}) == std::nullopt);
    }());
}

TEST_CASE("a value that does not convert is an Error naming the column and the member", "[mysql]") {
    boost::asio::io_context io;
    Pool pool(test_db());
    run(io, [&]() -> Task<> {
        // Text holding a whole number reads into an integer member; other text does not.
        auto numeric = co_await pool.query_as<Counted>("SELECT '42' AS n");
        CHECK(numeric.at(0).n == 42);
        auto text = pool.query_as<Counted>("SELECT 'many' AS n");
        auto message = co_await error_of(std::move(text));
        CHECK_THAT(message, Contains("column 'n' of row 1 does not fit member 'n'") && Contains("not an integer"));

        auto date = pool.query_as<Named>("SELECT 1 AS id, NOW() AS name");
        message = co_await error_of(std::move(date));
        CHECK_THAT(message, Contains("column 'name'") && Contains("holds a date-time, not text"));

        auto wide = pool.query_as<Tiny>("SELECT 300 AS small, 1 AS unsigned_");
        message = co_await error_of(std::move(wide));
        CHECK_THAT(message, Contains("column 'small'") && Contains("at most 127"));

        auto negative = pool.query_as<Tiny>("SELECT 1 AS small, -1 AS unsigned_");
        message = co_await error_of(std::move(negative));
        CHECK_THAT(message, Contains("column 'unsigned_'") && Contains("negative"));
    }());
}

TEST_CASE("a value breaking its wrapper's constraint is an Error naming the column", "[mysql]") {
    boost::asio::io_context io;
    Pool pool(test_db());
    run(io, [&]() -> Task<> {
        auto good = co_await pool.query_as<Account>("SELECT 5 AS level, 'abc' AS code, 'a@example.com' AS email, 'xyz' AS tag");
        REQUIRE(good.size() == 1);
        CHECK(good[0].level == 5);
        CHECK(good[0].code == "abc");
        CHECK(good[0].email == "a@example.com");
        CHECK(good[0].tag == "xyz");

        const std::pair<const char*, const char*> cases[] = {
            {"SELECT 500 AS level, 'abc' AS code, 'a@example.com' AS email, 'xyz' AS tag", "column 'level'"},
            {"SELECT 5 AS level, 'toolong' AS code, 'a@example.com' AS email, 'xyz' AS tag", "column 'code'"},
            {"SELECT 5 AS level, 'abc' AS code, 'nope' AS email, 'xyz' AS tag", "column 'email'"},
            {"SELECT 5 AS level, 'abc' AS code, 'a@example.com' AS email, 'XYZ' AS tag", "column 'tag'"},
        };
        const char* rules[] = {"must be at most 100", "must be at most 5 characters", "must be a valid e-mail address", "must match ^[a-z]+$"};
        for (std::size_t i = 0; i < std::size(cases); ++i) {
            auto task = pool.query_as<Account>(cases[i].first);
            auto message = co_await error_of(std::move(task));
            CHECK_THAT(message, Contains(cases[i].second) && Contains(rules[i]));
        }
    }());
}

TEST_CASE("query_one_as gives nullopt for no row, the row for one, and an Error for several", "[mysql]") {
    boost::asio::io_context io;
    Pool pool(test_db());
    run(io, [&]() -> Task<> {
        auto none = co_await pool.query_one_as<Named>("SELECT 1 AS id, 'a' AS name FROM DUAL WHERE ? = 0", 1);
        CHECK(none == std::nullopt);
        auto one = co_await pool.query_one_as<Named>("SELECT ? AS id, 'a' AS name", 7);
        REQUIRE(one);
        CHECK(one->id == 7);
        CHECK(one->name == "a");

        auto several = pool.query_one_as<Named>("SELECT 1 AS id, 'a' AS name UNION ALL SELECT 2, 'b'");
        auto message = co_await error_of(std::move(several));
        CHECK_THAT(message, Contains("returned 2 rows") && Contains("LIMIT 1"));
        // Columns are checked first: a wrong column says more than a count.
        auto wrong = pool.query_one_as<Named>("SELECT 1 AS id UNION ALL SELECT 2");
        message = co_await error_of(std::move(wrong));
        CHECK_THAT(message, Contains("missing column 'name'"));
    }());
}

TEST_CASE("query_as runs on a leased connection and inside a transaction, whose misfit rolls it back", "[mysql]") {
    boost::asio::io_context io;
    Pool pool(test_db());
    run(io, [&]() -> Task<> {
        co_await reset_table(pool, "CREATE TABLE rows_tx (id BIGINT PRIMARY KEY, name VARCHAR(20) NOT NULL)");
        {
            auto lease = co_await pool.acquire();
            auto rows = co_await lease->query_as<Named>("SELECT ? AS id, ? AS name", 3, "leased");
            CHECK(rows.at(0).name == "leased");
            auto one = co_await lease->query_one_as<Named>("SELECT id, name FROM rows_tx");
            CHECK(one == std::nullopt);
        }
        auto insert_and_read = [&](Connection& tx) -> Task<std::optional<Named>> {
            co_await tx.execute("INSERT INTO rows_tx VALUES (?, ?)", 1, "kept");
            co_return co_await tx.query_one_as<Named>("SELECT id, name FROM rows_tx WHERE id = ?", 1);
        };
        auto inside = co_await pool.transaction(insert_and_read);
        REQUIRE(inside);
        CHECK(inside->name == "kept");

        auto insert_then_misread = [&](Connection& tx) -> Task<std::vector<Named>> {
            co_await tx.execute("INSERT INTO rows_tx VALUES (?, ?)", 2, "undone");
            co_return co_await tx.query_as<Named>("SELECT id FROM rows_tx");
        };
        auto failing = pool.transaction(insert_then_misread);
        auto message = co_await error_of(std::move(failing));
        CHECK_THAT(message, Contains("missing column 'name'"));
        auto after = co_await pool.query_as<Named>("SELECT id, name FROM rows_tx ORDER BY id");
        REQUIRE(after.size() == 1);
        CHECK(after[0].name == "kept");
    }());
}

TEST_CASE("query_as marked idempotent runs once more when its connection is lost", "[mysql]") {
    boost::asio::io_context io;
    auto config = test_db(1);
    config.pool_min = 0;
    Pool pool(config);
    run(io, [&]() -> Task<> {
        auto plain = co_await pool.query_one_as<Named>(idempotent, "SELECT ? AS id, 'x' AS name", 4);
        REQUIRE(plain);
        CHECK(plain->id == 4);

        std::uint64_t victim = 0;
        {
            auto lease = co_await pool.acquire();
            victim = lease->thread_id();
        }
        boost::asio::co_spawn(co_await boost::asio::this_coro::executor, kill_once_running(victim), boost::asio::detached);
        auto rows = co_await pool.query_as<Slept>(idempotent, "SELECT SLEEP(1) AS slept, CONNECTION_ID() AS id, ? AS name", "echo");
        REQUIRE(rows.size() == 1);
        CHECK(rows[0].id != victim);
        CHECK(rows[0].name == "echo");

        // A row that does not fit is the caller's mistake, not a lost connection: it is not rerun.
        auto misfit = pool.query_as<Named>(idempotent, "SELECT 1 AS id");
        auto message = co_await error_of(std::move(misfit));
        CHECK_THAT(message, Contains("missing column 'name'"));
    }());
}

}  // namespace rows_test
