// spur::mysql::DateTime's text forms: what a row's timestamp looks like in a JSON API or SQL.
#include <spur/mysql/value.hpp>

#include <catch2/catch.hpp>

TEST_CASE("DateTime writes ISO 8601 and SQL text, with the fraction only when there is one", "[mysql][datetime]") {
    using spur::mysql::DateTime;
    const DateTime leap{2024, 2, 29, 23, 59, 58, 123456};
    CHECK(leap.to_iso8601() == "2024-02-29T23:59:58.123Z");
    CHECK(leap.to_string() == "2024-02-29 23:59:58.123456");

    const DateTime whole{1999, 12, 31, 0, 0, 0, 0};
    CHECK(whole.to_iso8601() == "1999-12-31T00:00:00Z");
    CHECK(whole.to_string() == "1999-12-31 00:00:00");

    // Under a millisecond: ISO 8601 keeps millisecond precision, SQL text the microseconds.
    const DateTime tiny{2024, 1, 2, 3, 4, 5, 7};
    CHECK(tiny.to_iso8601() == "2024-01-02T03:04:05.000Z");
    CHECK(tiny.to_string() == "2024-01-02 03:04:05.000007");

    // MariaDB's zero date and the ends of its range, padded to the columns' widths.
    CHECK(DateTime{}.to_string() == "0000-00-00 00:00:00");
    CHECK(DateTime{9999, 12, 31, 23, 59, 59, 999999}.to_iso8601() == "9999-12-31T23:59:59.999Z");
    CHECK(DateTime{1, 1, 1, 0, 0, 0, 10}.to_string() == "0001-01-01 00:00:00.000010");

    // Out of every column's range (a DateTime built by hand): written in full, never cut short.
    CHECK(DateTime{12345, 1, 1, 0, 0, 0, 0}.to_iso8601() == "12345-01-01T00:00:00Z");
    CHECK(DateTime{-1, 1, 1, 0, 0, 0, 0}.to_string() == "-001-01-01 00:00:00");
    CHECK(DateTime::from_time_point(DateTime{2024, 2, 29, 23, 59, 58, 123456}.to_time_point()).to_iso8601() ==
          "2024-02-29T23:59:58.123Z");
}
