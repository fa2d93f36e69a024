#include "util/url.hpp"

#include <catch2/catch.hpp>

using namespace spur::detail;

TEST_CASE("percent_decode is strict - the lenient form keeps bad escapes", "[util][url]") {
    CHECK(percent_decode("a%20b%2f") == std::optional<std::string>("a b/"));
    CHECK(percent_decode("a+b") == std::optional<std::string>("a+b"));
    CHECK(percent_decode("a+b", true) == std::optional<std::string>("a b"));
    CHECK_FALSE(percent_decode("%").has_value());
    CHECK_FALSE(percent_decode("%4").has_value());
    CHECK_FALSE(percent_decode("%g0").has_value());
    CHECK(percent_decode_lenient("100%+%4", true) == "100% %4");
    CHECK(percent_decode("%00") == std::optional<std::string>(std::string(1, '\0')));
}

TEST_CASE("percent_encode leaves only unreserved characters", "[util][url]") {
    CHECK(percent_encode("a b/ü~-._") == "a%20b%2F%C3%BC~-._");
}

TEST_CASE("target_path and target_query handle origin and absolute form", "[util][url]") {
    CHECK(target_path("/a?b=1") == "/a");
    CHECK(target_query("/a?b=1") == "b=1");
    CHECK(target_path("/a#frag") == "/a");
    CHECK(target_path("HTTP://host:80/x/y?z") == "/x/y");
    CHECK(target_query("http://host?z=1") == "z=1");
    CHECK(target_path("http://host") == "/");
    CHECK(target_path("") == "/");
}
