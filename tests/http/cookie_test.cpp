#include <spur/http/cookie.hpp>

#include <catch2/catch.hpp>

TEST_CASE("cookie names must be tokens and attributes may not break the header", "[http][cookie]") {
    CHECK_THROWS_AS(spur::serialize_cookie("", "v"), std::invalid_argument);
    CHECK_THROWS_AS(spur::serialize_cookie("a b", "v"), std::invalid_argument);
    CHECK_THROWS_AS(spur::serialize_cookie("a;b", "v"), std::invalid_argument);
    spur::CookieOptions o;
    o.path = "/x; Domain=evil.com";
    CHECK_THROWS_AS(spur::serialize_cookie("a", "v", o), std::invalid_argument);
    o.path = "/";
    o.domain = "a\r\nb";
    CHECK_THROWS_AS(spur::serialize_cookie("a", "v", o), std::invalid_argument);
}

TEST_CASE("SameSite=None forces Secure", "[http][cookie]") {
    spur::CookieOptions o;
    o.same_site = spur::SameSite::none;
    o.http_only = false;
    CHECK(spur::serialize_cookie("a", "1", o) == "a=1; Path=/; Secure; SameSite=None");
}

TEST_CASE("values round-trip through serialize and parse", "[http][cookie]") {
    std::string value = "x=1; y=\"2\", z%3 ü\t";
    auto header = spur::serialize_cookie("k", value);
    auto pair = header.substr(0, header.find(';'));
    auto parsed = spur::parse_cookie_header(pair);
    REQUIRE(parsed.size() == 1);
    CHECK(parsed[0].first == "k");
    CHECK(parsed[0].second == value);
}

TEST_CASE("malformed cookie pairs are skipped - not fatal", "[http][cookie]") {
    auto parsed = spur::parse_cookie_header(";;novalue; =x;  a = 1 ;b=2;");
    REQUIRE(parsed.size() == 2);
    CHECK(parsed[0] == std::pair<std::string, std::string>{"a", "1"});
    CHECK(parsed[1] == std::pair<std::string, std::string>{"b", "2"});
}

