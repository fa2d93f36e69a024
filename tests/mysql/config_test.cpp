#include <spur/mysql/config.hpp>

#include <catch2/catch.hpp>

using spur::mysql::parse_url;

TEST_CASE("database URLs carry credentials, host, database and pool settings", "[mysql][config]") {
    auto c = parse_url("mysql://app%40svc:p%3Ass%2Fw@db.internal:3307/my_db?pool_max=16&pool_min=2&acquire_timeout_ms=250");
    CHECK(c.user == "app@svc");
    CHECK(c.password == "p:ss/w");
    CHECK(c.host == "db.internal");
    CHECK(c.port == 3307);
    CHECK(c.database == "my_db");
    CHECK(c.pool_max == 16);
    CHECK(c.pool_min == 2);
    CHECK(c.acquire_timeout == std::chrono::milliseconds(250));
    auto s = parse_url("mysql://u@localhost/db?socket=/run/mysqld/mysqld.sock");
    CHECK(s.socket == "/run/mysqld/mysqld.sock");
    CHECK(s.password.empty());
    CHECK(s.port == 3306);
    CHECK(parse_url("mariadb://u:p@h/d").host == "h");
    CHECK(c.max_lifetime == std::chrono::minutes(30));
    CHECK(parse_url("mysql://u@h/d?max_lifetime_ms=0").max_lifetime.count() == 0);
    auto limits = parse_url("mysql://u@h/d?max_statement_time_ms=2000&multi_statements=1");
    CHECK(limits.max_statement_time == std::chrono::milliseconds(2000));
    CHECK(limits.multi_statements);
    CHECK_FALSE(parse_url("mysql://u@h/d").multi_statements);
    CHECK(c.drain_threshold == std::chrono::milliseconds(250));
    CHECK(c.kill_queue == 16);
    auto drain = parse_url("mysql://u@h/d?drain_threshold_ms=0&kill_queue=4");
    CHECK(drain.drain_threshold.count() == 0);
    CHECK(drain.kill_queue == 4);
}

TEST_CASE("malformed database URLs are refused", "[mysql][config]") {
    CHECK_THROWS_AS(parse_url("postgres://u@h/d"), std::invalid_argument);
    CHECK_THROWS_AS(parse_url("mysql://u@h:notaport/d"), std::invalid_argument);
    CHECK_THROWS_AS(parse_url("mysql://u@h/d?pool_max=0"), std::invalid_argument);
    CHECK_THROWS_AS(parse_url("mysql://u@h/d?bogus=1"), std::invalid_argument);
    CHECK_THROWS_AS(parse_url("mysql://u%zz@h/d"), std::invalid_argument);
}

TEST_CASE("a database URL may list several hosts, for a cluster", "[mysql][config]") {
    using spur::mysql::Host;
    using spur::mysql::HostOrder;
    auto c = parse_url("mysql://u:p@10.0.0.1:3307,db2,[::1]:3309/app?host_order=round_robin&host_cooldown_ms=500&causal_reads=1");
    REQUIRE(c.hosts.size() == 3);
    CHECK(c.hosts[0] == Host{"10.0.0.1", 3307});
    CHECK(c.hosts[1] == Host{"db2", 3306});
    CHECK(c.hosts[2] == Host{"::1", 3309});
    CHECK(c.host == "10.0.0.1");  // the first, for code that reads host/port
    CHECK(c.port == 3307);
    CHECK(c.database == "app");
    CHECK(c.host_order == HostOrder::round_robin);
    CHECK(c.host_cooldown == std::chrono::milliseconds(500));
    CHECK(c.causal_reads);
    CHECK(spur::mysql::hosts_of(c) == c.hosts);

    auto one = parse_url("mysql://u@h:3310/d");
    CHECK(one.hosts.empty());
    CHECK(one.host_order == HostOrder::first_available);
    CHECK_FALSE(one.causal_reads);
    CHECK(spur::mysql::hosts_of(one) == std::vector<Host>{{"h", 3310}});

    CHECK_THROWS_AS(parse_url("mysql://u@h1,,h2/d"), std::invalid_argument);
    CHECK_THROWS_AS(parse_url("mysql://u@h1,h2:x/d"), std::invalid_argument);
    CHECK_THROWS_AS(parse_url("mysql://u@h1/d?host_order=random"), std::invalid_argument);
    CHECK_THROWS_AS(parse_url("mysql://u@[::1/d"), std::invalid_argument);
}
