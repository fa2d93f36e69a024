#include <spur/response.hpp>

#include <spur/app.hpp>
#include <spur/testing/client.hpp>

#include <catch2/catch.hpp>

using spur::Request;
using spur::Response;
using spur::testing::Client;

TEST_CASE("status and headers chain - set replaces and append adds", "[core][response]") {
    Response res;
    res.status(201).set("X-A", "1").set("X-A", "2").append("X-B", "1").append("X-B", "2");
    CHECK(res.status() == 201);
    CHECK(res.get("x-a") == "2");
    CHECK(res.header().count("X-B") == 2);
    res.unset("X-A");
    CHECK(res.get("X-A").empty());
}

TEST_CASE("invalid status codes and header names or values are refused", "[core][response]") {
    Response res;
    CHECK_THROWS_AS(res.status(99), std::invalid_argument);
    CHECK_THROWS_AS(res.status(600), std::invalid_argument);
    CHECK_THROWS_AS(res.set("X-Bad", "a\r\nSet-Cookie: x=1"), std::invalid_argument);
    CHECK_THROWS_AS(res.set("X-Bad", "a\nb"), std::invalid_argument);
    CHECK_THROWS_AS(res.set("X-Bad", std::string("a\0b", 3)), std::invalid_argument);
    CHECK_THROWS_AS(res.set("Bad Name", "v"), std::invalid_argument);
    CHECK_THROWS_AS(res.set("Bad:Name", "v"), std::invalid_argument);
    CHECK_THROWS_AS(res.set("", "v"), std::invalid_argument);
    CHECK_THROWS_AS(res.append("X\r\n", "v"), std::invalid_argument);
    CHECK_THROWS_AS(res.redirect("/a\r\nX: y"), std::invalid_argument);
    CHECK(res.header().begin() == res.header().end());  // nothing half-applied
}

TEST_CASE("CR, LF and NUL are found at every position of a long header value, and tabs and bytes past 0x7F pass",
          "[core][response]") {
    // The value is checked eight bytes at a time: each bad byte at each offset, in the whole
    // words and in the tail, beside bytes that look alike to a word-wide test (tab, 0x0E, 0xFF).
    const std::string base = "text\twith tab \x0e\x0f\xff\xc3\xa9 and more text, 40 bytes";
    Response res;
    res.set("X-Ok", base);
    CHECK(res.get("X-Ok") == base);
    for (char bad : {'\r', '\n', '\0'}) {
        for (std::size_t at = 0; at < base.size(); ++at) {
            std::string value = base;
            value[at] = bad;
            CAPTURE(static_cast<int>(bad), at);
            CHECK_THROWS_AS(res.set("X-Bad", value), std::invalid_argument);
        }
    }
    CHECK(res.get("X-Bad").empty());
}

TEST_CASE("send defaults to text/plain and keeps an explicit type", "[core][response]") {
    Response a;
    a.send("hi");
    CHECK(a.get("Content-Type") == "text/plain; charset=utf-8");
    CHECK(a.body() == "hi");
    CHECK(a.ended());
    Response b;
    b.type("html").send("<p>");
    CHECK(b.get("Content-Type") == "text/html; charset=utf-8");
    Response c;
    c.type("application/problem+json").json({{"x", 1}});
    CHECK(c.get("Content-Type") == "application/problem+json");
    CHECK(c.body() == R"({"x":1})");
}

TEST_CASE("redirect sets Location and a 3xx status", "[core][response]") {
    Response res;
    res.redirect("/login?next=%2F", 303);
    CHECK(res.status() == 303);
    CHECK(res.get("Location") == "/login?next=%2F");
    CHECK_THROWS_AS(Response().redirect("/x", 200), std::invalid_argument);
}

TEST_CASE("finished responses carry Content-Length - Date and Server", "[core][response]") {
    spur::App app;
    app.get("/", [](Request&, Response& res) { res.send("hello"); });
    Client c(app);
    auto r = c.get("/");
    CHECK(r.header("Content-Length") == "5");
    CHECK(r.header("Server") == "spur");
    CHECK(r.header("Date").size() == 29);  // "Sun, 06 Nov 1994 08:49:37 GMT"
    CHECK(r.header("Date").substr(26) == "GMT");
}

TEST_CASE("cookies are set with every attribute and cleared with an expired copy", "[core][response]") {
    spur::App app;
    app.get("/login", [](Request&, Response& res) {
        spur::CookieOptions o;
        o.max_age = std::chrono::hours(1);
        o.secure = true;
        o.same_site = spur::SameSite::strict;
        o.domain = "example.com";
        o.path = "/app";
        res.cookie("sid", "a b;c", o).cookie("plain", "v").send("ok");
    });
    app.get("/logout", [](Request&, Response& res) { res.clear_cookie("sid").end(); });
    Client c(app);
    auto r = c.get("/login");
    std::vector<std::string> cookies;
    for (auto it = r.headers.find("Set-Cookie"); it != r.headers.end() && it->name_string() == "Set-Cookie"; ++it)
        cookies.emplace_back(it->value());
    REQUIRE(cookies.size() == 2);
    CHECK(cookies[0] == "sid=a%20b%3Bc; Path=/app; Domain=example.com; Max-Age=3600; HttpOnly; Secure; SameSite=Strict");
    CHECK(cookies[1] == "plain=v; Path=/; HttpOnly; SameSite=Lax");
    auto out = c.get("/logout");
    CHECK(out.header("Set-Cookie") ==
          "sid=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax");
}

TEST_CASE("streamed responses are collected whole - HEAD skips the producer", "[core][response]") {
    spur::App app;
    int produced = 0;
    app.get("/stream", [&](Request&, Response& res) {
        res.type("text").stream([&](spur::BodyWriter& w) -> spur::Task<> {
            ++produced;
            for (int i = 0; i < 3; ++i) co_await w.write("part" + std::to_string(i) + ";");
        });
    });
    app.get("/sized", [](Request&, Response& res) {
        res.stream([](spur::BodyWriter& w) -> spur::Task<> { co_await w.write("12345"); }, 5);
    });
    Client c(app);
    auto r = c.get("/stream");
    CHECK(r.body == "part0;part1;part2;");
    CHECK(r.header("Transfer-Encoding") == "chunked");
    CHECK(r.header("Content-Length").empty());
    CHECK(c.get("/sized").header("Content-Length") == "5");
    auto h = c.head("/stream");
    CHECK(h.body.empty());
    CHECK(produced == 1);
}

namespace {
// A response with these Vary lines, after vary(field).
spur::Response varied(std::initializer_list<std::string_view> lines, std::string_view field) {
    spur::Response res;
    for (auto line : lines) res.append("Vary", line);
    res.vary(field);
    return res;
}

std::ptrdiff_t vary_lines(const spur::Response& res) {
    const auto [first, last] = res.header().equal_range("Vary");
    return std::distance(first, last);
}
}  // namespace

TEST_CASE("vary merges every Vary line the response has, and adds nothing already listed", "[core][response]") {
    CHECK(varied({"Cookie"}, "Accept-Encoding").get("Vary") == "Cookie, Accept-Encoding");

    const auto two = varied({"Cookie", "Origin"}, "Accept-Encoding");
    CHECK(two.get("Vary") == "Cookie, Origin, Accept-Encoding");
    CHECK(vary_lines(two) == 1);

    CHECK(varied({"", "Origin"}, "Accept-Encoding").get("Vary") == "Origin, Accept-Encoding");
    CHECK(vary_lines(varied({"Cookie", "accept-encoding"}, "Accept-Encoding")) == 2);  // listed already: untouched
    CHECK(varied({"Cookie", "*"}, "Origin").get("Vary") == "Cookie");                  // "*" says it all

    const auto to_star = varied({"Cookie", "Origin"}, "*");
    CHECK(to_star.get("Vary") == "*");
    CHECK(vary_lines(to_star) == 1);
}
