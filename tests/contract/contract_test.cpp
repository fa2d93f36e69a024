#include <spur/contract/contract.hpp>

#include <spur/app.hpp>
#include <spur/serving.hpp>
#include <spur/testing/client.hpp>

#include <boost/describe.hpp>
#include <boost/json.hpp>

#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <vector>

namespace contract_test {

BOOST_DEFINE_ENUM_CLASS(Color, red, green, blue)

struct Tag {
    spur::String<1, 10> name;
};
BOOST_DESCRIBE_STRUCT(Tag, (), (name))

struct Everything {
    bool flag;
    std::int32_t small;
    std::uint64_t big;
    spur::Int<1, 10> level;
    double ratio;
    spur::Number<0, 1> share;
    std::optional<spur::Number<-1805, 1805, 10>> longitude;
    std::string free_text;
    spur::String<2, 5> word;
    spur::String<0, 20, "^[a-z]+$"> slug;
    spur::Email email;
    spur::Uuid id;
    spur::DateTime at;
    spur::Uri link;
    Color color;
    std::optional<std::string> note;
    spur::List<Tag, 1, 3> tags;
    std::map<std::string, int> counts;
    boost::json::value extra;
};
BOOST_DESCRIBE_STRUCT(Everything, (),
                      (flag, small, big, level, ratio, share, longitude, free_text, word, slug, email, id, at, link, color, note, tags,
                       counts, extra))

struct Loose {
    int n;
};
BOOST_DESCRIBE_STRUCT(Loose, (), (n))

struct Page {
    std::optional<spur::Int<1, 100>> limit;
    std::optional<std::string> q;
    std::vector<Color> color;
};
BOOST_DESCRIBE_STRUCT(Page, (), (limit, q, color))

struct Ids {
    std::int64_t user;
    spur::Int<1> item;
};
BOOST_DESCRIBE_STRUCT(Ids, (), (user, item))

}  // namespace contract_test

template <>
inline constexpr bool spur::allow_unknown_fields<contract_test::Loose> = true;

namespace contract_test {
using spur::testing::Client;
namespace json = boost::json;

namespace {
json::object valid_everything() {
    return {{"flag", true},
            {"small", -5},
            {"big", 18446744073709551615ull},
            {"level", 3},
            {"ratio", 0.5},
            {"share", 1},
            {"free_text", ""},
            {"word", "héllo"},
            {"slug", "abc"},
            {"email", "ada@example.com"},
            {"id", "123e4567-e89b-12d3-a456-426614174000"},
            {"at", "2026-12-01T05:36:39.123+01:00"},
            {"link", "https://example.com/a?b=c"},
            {"color", "green"},
            {"tags", json::array{json::object{{"name", "x"}}}},
            {"counts", {{"a", 1}}},
            {"extra", {1, "two"}}};
}

// The details of a 422 as (path, rule) pairs, in order.
std::vector<std::pair<std::string, std::string>> details(const spur::testing::Result& r) {
    std::vector<std::pair<std::string, std::string>> out;
    const auto body = r.json();
    for (const auto& d : body.at("error").at("details").as_array())
        out.emplace_back(json::value_to<std::string>(d.at("path")), json::value_to<std::string>(d.at("rule")));
    return out;
}

spur::App everything_app(Everything& seen) {
    spur::App app;
    app.post("/e", [&seen](spur::Request&, spur::Response& res, spur::Body<Everything> in) {
        seen = *in;
        res.json(*in);
    });
    return app;
}
}  // namespace

TEST_CASE("a valid body reads into the struct and writes back as the same JSON", "[contract]") {
    Everything seen{};
    auto app = everything_app(seen);
    Client client(app);
    auto input = valid_everything();
    auto r = client.post_json("/e", input);
    REQUIRE(r.status == 200);
    CHECK(seen.big == 18446744073709551615ull);
    CHECK(seen.level == 3);
    CHECK(seen.word == "héllo");
    CHECK(seen.color == Color::green);
    CHECK_FALSE(seen.note.has_value());
    REQUIRE(seen.tags.size() == 1);
    CHECK(seen.tags[0].name == "x");
    auto out = r.json().as_object();
    CHECK(out.at("note").is_null());  // nullopt is written as null
    out.erase("note");
    out["share"] = out.at("share").to_number<double>() == 1.0 ? json::value(1) : out.at("share");
    CHECK(json::serialize(out.at("tags")) == R"([{"name":"x"}])");
    CHECK(out.at("color") == "green");
    CHECK(out.at("big").to_number<std::uint64_t>() == 18446744073709551615ull);
}

TEST_CASE("every violation is listed at once with a JSON pointer and the rule", "[contract]") {
    Everything seen{};
    auto app = everything_app(seen);
    Client client(app);
    json::object bad{{"flag", "yes"},
                     {"small", 2147483648},
                     {"big", -1},
                     {"level", 11},
                     {"ratio", "x"},
                     {"share", 1.5},
                     {"free_text", 3},
                     {"word", "ééééééé"},
                     {"slug", "ABC"},
                     {"email", "not-an-address"},
                     {"id", "123e4567-e89b-12d3-a456-42661417400"},
                     {"at", "2026-02-30T00:00:00Z"},
                     {"link", "no scheme"},
                     {"color", "purple"},
                     {"tags", json::array{json::object{{"name", ""}}, json::object{{"nam", "x"}}}},
                     {"counts", {{"a/b~c", "one"}}},
                     {"surplus", 1}};
    auto r = client.post_json("/e", bad);
    REQUIRE(r.status == 422);
    auto body = r.json();
    CHECK(body.at("success") == false);
    CHECK(body.at("error").at("code") == "validation_error");
    std::vector<std::pair<std::string, std::string>> expected{
        {"/flag", "type"},          {"/small", "maximum"},      {"/big", "minimum"},      {"/level", "maximum"},
        {"/ratio", "type"},         {"/share", "maximum"},      {"/free_text", "type"},   {"/word", "maxLength"},
        {"/slug", "pattern"},       {"/email", "format"},       {"/id", "format"},        {"/at", "format"},
        {"/link", "format"},        {"/color", "enum"},         {"/tags/0/name", "minLength"},
        {"/tags/1/name", "required"}, {"/tags/1/nam", "additionalProperties"}, {"/counts/a~1b~0c", "type"},
        {"/extra", "required"},     {"/surplus", "additionalProperties"}};
    CHECK(details(r) == expected);
    const auto& first = body.at("error").at("details").at(0);
    CHECK(first.at("in") == "body");
    CHECK(first.at("message") == "flag must be true or false");
}

TEST_CASE("string lengths count characters, not bytes", "[contract]") {
    Everything seen{};
    auto app = everything_app(seen);
    Client client(app);
    auto input = valid_everything();
    input["word"] = "日本語";  // 3 characters, 9 bytes: within 2..5
    CHECK(client.post_json("/e", input).status == 200);
    input["word"] = "😀";  // 1 character, 4 bytes
    auto r = client.post_json("/e", input);
    REQUIRE(r.status == 422);
    CHECK(details(r) == std::vector<std::pair<std::string, std::string>>{{"/word", "minLength"}});
}

TEST_CASE("integers out of range, fractions, NaN-like infinities and overflowing numbers are refused", "[contract]") {
    Everything seen{};
    auto app = everything_app(seen);
    Client client(app);
    auto send = [&](std::string_view field, std::string_view raw) {
        auto input = valid_everything();
        input.erase(field);
        std::string text = json::serialize(input);
        text.insert(text.size() - 1, ",\"" + std::string(field) + "\":" + std::string(raw));
        return client.post("/e", text, {{"Content-Type", "application/json"}});
    };
    CHECK(send("small", "1.5").status == 422);
    CHECK(send("small", "2.0").status == 200);  // a whole number written with a fraction is an integer
    CHECK(send("big", "18446744073709551616").status == 422);  // 2^64
    CHECK(send("big", "1e400").status == 422);
    CHECK(send("ratio", "1e400").status == 422);  // Boost.JSON reads it as infinity
    CHECK(send("ratio", "-1e400").status == 422);
    CHECK(send("ratio", "NaN").status == 400);  // not JSON at all
    CHECK(send("longitude", "180.5").status == 200);
    CHECK(send("longitude", "-180.6").status == 422);
    auto r = send("ratio", "1e400");
    CHECK(details(r) == std::vector<std::pair<std::string, std::string>>{{"/ratio", "type"}});
}

TEST_CASE("optional members may be absent or null, required ones may not be null", "[contract]") {
    Everything seen{};
    auto app = everything_app(seen);
    Client client(app);
    auto input = valid_everything();
    input["note"] = nullptr;
    CHECK(client.post_json("/e", input).status == 200);
    CHECK_FALSE(seen.note.has_value());
    input["note"] = "hi";
    CHECK(client.post_json("/e", input).status == 200);
    CHECK(seen.note == "hi");
    input["word"] = nullptr;
    auto r = client.post_json("/e", input);
    CHECK(details(r) == std::vector<std::pair<std::string, std::string>>{{"/word", "type"}});
}

TEST_CASE("unknown fields are refused unless the type allows them", "[contract]") {
    spur::App app;
    app.post("/loose", [](spur::Request&, spur::Response& res, spur::Body<Loose> in) { res.json({{"n", in->n}}); });
    Client client(app);
    auto r = client.post_json("/loose", {{"n", 1}, {"other", true}});
    CHECK(r.status == 200);
    CHECK(r.json().at("n") == 1);
}

TEST_CASE("malformed JSON, a wrong type, an empty body and a non-object answer as documented", "[contract]") {
    spur::App app;
    app.post("/loose", [](spur::Request&, spur::Response& res, spur::Body<Loose>) { res.end(); });
    Client client(app);
    auto broken = client.post("/loose", "{\"n\":", {{"Content-Type", "application/json"}});
    CHECK(broken.status == 400);
    CHECK(broken.json().at("error").at("code") == "invalid_json");
    CHECK(client.post("/loose", "n=1", {{"Content-Type", "application/x-www-form-urlencoded"}}).status == 415);
    auto empty = client.post("/loose", "");
    REQUIRE(empty.status == 422);
    CHECK(details(empty) == std::vector<std::pair<std::string, std::string>>{{"", "type"}});
    CHECK(empty.json().at("error").at("message") == "the body must be a JSON object");
    CHECK(client.post_json("/loose", json::array{1}).status == 422);
}

TEST_CASE("deeply nested JSON is refused by the parser before the walk", "[contract]") {
    spur::App app;
    app.post("/any", [](spur::Request&, spur::Response& res, spur::Body<boost::json::value>) { res.end(); });
    Client client(app);
    std::string deep(10000, '[');
    deep += std::string(10000, ']');
    auto r = client.post("/any", deep, {{"Content-Type", "application/json"}});
    CHECK(r.status == 400);
    CHECK(r.json().at("error").at("code") == "invalid_json");
    CHECK(client.post("/any", "[[[1]]]", {{"Content-Type", "application/json"}}).status == 200);
}

TEST_CASE("a duplicated key keeps one value: the last, as Boost.JSON parses it", "[contract]") {
    spur::App app;
    app.post("/loose", [](spur::Request&, spur::Response& res, spur::Body<Loose> in) { res.json({{"n", in->n}}); });
    Client client(app);
    auto r = client.post("/loose", R"({"n":1,"n":2})", {{"Content-Type", "application/json"}});
    REQUIRE(r.status == 200);
    CHECK(r.json().at("n") == 2);
}

TEST_CASE("a list of many bad items reports at most a hundred problems", "[contract]") {
    spur::App app;
    app.post("/tags", [](spur::Request&, spur::Response& res, spur::Body<std::vector<Tag>>) { res.end(); });
    Client client(app);
    json::array many;
    for (int i = 0; i < 1000; ++i) many.push_back(json::object{{"name", ""}});
    auto r = client.post_json("/tags", many);
    REQUIRE(r.status == 422);
    CHECK(r.json().at("error").at("details").as_array().size() == 100);
}

TEST_CASE("query parameters are typed, with repeated keys for lists", "[contract]") {
    spur::App app;
    app.get("/page", [](spur::Request&, spur::Response& res, spur::Query<Page> q) {
        res.json({{"limit", q->limit ? json::value(q->limit->value) : json::value(nullptr)},
                  {"q", q->q ? json::value(*q->q) : json::value(nullptr)},
                  {"colors", q->color.size()}});
    });
    Client client(app);
    auto ok = client.get("/page?limit=5&q=a%20b&color=red&color=blue&ignored=1");
    REQUIRE(ok.status == 200);
    CHECK(ok.json() == json::parse(R"({"limit":5,"q":"a b","colors":2})"));
    CHECK(client.get("/page?limit=").json().at("limit").is_null());  // empty reads as absent
    auto bad = client.get("/page?limit=0&color=pink");
    REQUIRE(bad.status == 422);
    CHECK(details(bad) == std::vector<std::pair<std::string, std::string>>{{"/limit", "minimum"}, {"/color", "enum"}});
    CHECK(bad.json().at("error").at("details").at(0).at("in") == "query");
    CHECK(client.get("/page?limit=abc").status == 422);
}

TEST_CASE("path parameters convert, and a value that does not is a 404", "[contract]") {
    spur::App app;
    app.get("/users/:user/items/:item", [](spur::Request&, spur::Response& res, spur::Path<Ids> p) {
        res.json({{"user", p->user}, {"item", p->item.value}});
    });
    app.get("/n/:id", [](spur::Request&, spur::Response& res, spur::Path<spur::Int<1>> id) { res.json({{"id", id->value}}); });
    Client client(app);
    CHECK(client.get("/users/-3/items/9").json() == json::parse(R"({"user":-3,"item":9})"));
    CHECK(client.get("/users/x/items/9").status == 404);
    CHECK(client.get("/users/1/items/0").status == 404);
    CHECK(client.get("/n/42").json().at("id") == 42);
    CHECK(client.get("/n/99999999999999999999").status == 404);
    CHECK(client.get("/n/4x").status == 404);
}

TEST_CASE("a Path<T> that does not fit its route is refused when the app freezes", "[contract]") {
    spur::App a;
    a.get("/users/:user", [](spur::Request&, spur::Response& res, spur::Path<Ids>) { res.end(); });
    CHECK_THROWS_AS((void)spur::Serving(a), std::logic_error);
    spur::App b;
    b.get("/plain", [](spur::Request&, spur::Response& res, spur::Path<int>) { res.end(); });
    CHECK_THROWS_AS((void)spur::Serving(b), std::logic_error);
}

TEST_CASE("path problems answer 404 before the body is validated, query and body problems together", "[contract]") {
    spur::App app;
    app.post("/n/:id", [](spur::Request&, spur::Response& res, spur::Path<int> id, spur::Query<Page>, spur::Body<Loose>) {
        res.json({{"id", *id}});
    });
    Client client(app);
    CHECK(client.post_json("/n/x?limit=0", {{"n", "x"}}).status == 404);
    auto r = client.post_json("/n/1?limit=0", {{"n", "x"}});
    REQUIRE(r.status == 422);
    auto d = r.json().at("error").at("details").as_array();
    REQUIRE(d.size() == 2);
    CHECK(d[0].at("in") == "query");
    CHECK(d[1].at("in") == "body");
    CHECK(r.json().at("error").at("message") == "2 problems: limit must be at least 1; n must be an integer");
}

TEST_CASE("the validation status is the app's choice", "[contract]") {
    spur::AppOptions options;
    options.validation_status = 400;
    spur::App app(options);
    app.post("/loose", [](spur::Request&, spur::Response& res, spur::Body<Loose>) { res.end(); });
    app.post("/manual", [](spur::Request&, spur::Response&) {
        throw spur::ValidationError({{"body", "/x", "custom", "x is wrong"}});
    });
    Client client(app);
    auto r = client.post_json("/loose", {{"n", "x"}});
    CHECK(r.status == 400);
    CHECK(r.json().at("error").at("code") == "validation_error");
    auto m = client.post_json("/manual", json::object{});
    CHECK(m.status == 400);
    CHECK(m.json().at("error").at("details").at(0).at("rule") == "custom");
    spur::AppOptions wrong;
    wrong.validation_status = 200;
    CHECK_THROWS_AS(spur::App(wrong), std::invalid_argument);
}

TEST_CASE("a coroutine handler gets typed inputs too", "[contract]") {
    spur::App app;
    app.post("/loose", [](spur::Request&, spur::Response& res, spur::Body<Loose> in) -> spur::Task<> {
        res.status(201).json({{"n", in->n}});
        co_return;
    });
    Client client(app);
    auto r = client.post_json("/loose", {{"n", 7}});
    CHECK(r.status == 201);
    CHECK(r.json().at("n") == 7);
    CHECK(client.post_json("/loose", {{"n", "x"}}).status == 422);
}

TEST_CASE("to_json writes vectors, maps, enums and nested structs as their schemas say", "[contract]") {
    std::vector<Tag> tags{Tag{"a"}, Tag{"b"}};
    CHECK(json::serialize(spur::to_json(tags)) == R"([{"name":"a"},{"name":"b"}])");
    std::map<std::string, std::optional<Color>> m{{"x", Color::blue}, {"y", std::nullopt}};
    CHECK(json::serialize(spur::to_json(m)) == R"({"x":"blue","y":null})");
}

namespace contract_pattern_test {
constexpr std::size_t mib = 1024 * 1024;
struct Long {
    spur::String<0, 2 * mib, "^[a-z]+$"> letters;   // a quantifier over the whole input
    spur::String<0, 2 * mib, "^(a+)+$"> nested;     // backtracks catastrophically on a failing tail
};
BOOST_DESCRIBE_STRUCT(Long, (), (letters, nested))

struct Short {
    spur::String<1, 8, "^(a+)+$"> code;
};
BOOST_DESCRIBE_STRUCT(Short, (), (code))

struct BackReference {
    spur::String<0, 10, "^(a)\\1$"> twice;
};
BOOST_DESCRIBE_STRUCT(BackReference, (), (twice))
struct Lookahead {
    std::optional<spur::String<0, 10, "^(?=a)">> starts;
};
BOOST_DESCRIBE_STRUCT(Lookahead, (), (starts))
struct Unbalanced {
    spur::String<0, 10, "^(ab$"> broken;
};
BOOST_DESCRIBE_STRUCT(Unbalanced, (), (broken))
struct InQuery {
    std::vector<spur::String<0, 10, "[z-a]">> q;
};
BOOST_DESCRIBE_STRUCT(InQuery, (), (q))
}  // namespace contract_pattern_test

namespace {
spur::App long_app() {
    spur::App app;
    app.post("/long", [](spur::Request&, spur::Response& res, spur::Body<contract_pattern_test::Long> in) {
        res.json({{"letters", in->letters.size()}, {"nested", in->nested.size()}});
    }).body_limit(8 * contract_pattern_test::mib);
    return app;
}
}  // namespace

// std::regex overflowed the stack on the first (GCC bug 86164) and backtracked for ever on
// the second: neither test could end before RE2. No timing is asserted; finishing is the test.
TEST_CASE("a quantified pattern matches 1 MiB of input", "[contract][pattern]") {
    auto app = long_app();
    Client client(app);
    const std::string a(contract_pattern_test::mib, 'a');
    auto r = client.post_json("/long", {{"letters", a}, {"nested", "a"}});
    REQUIRE(r.status == 200);
    CHECK(r.json().at("letters") == contract_pattern_test::mib);
    r = client.post_json("/long", {{"letters", a + "7"}, {"nested", "a"}});
    REQUIRE(r.status == 422);
    CHECK(details(r) == std::vector<std::pair<std::string, std::string>>{{"/letters", "pattern"}});
}

TEST_CASE("a catastrophic-backtracking pattern answers at once on 1 MiB with a failing tail", "[contract][pattern]") {
    auto app = long_app();
    Client client(app);
    const std::string a(contract_pattern_test::mib, 'a');
    auto r = client.post_json("/long", {{"letters", "x"}, {"nested", a + "!"}});
    REQUIRE(r.status == 422);
    CHECK(details(r) == std::vector<std::pair<std::string, std::string>>{{"/nested", "pattern"}});
    r = client.post_json("/long", {{"letters", "x"}, {"nested", a}});
    CHECK(r.status == 200);
    // A short failing input, the classic ReDoS probe.
    r = client.post_json("/long", {{"letters", "x"}, {"nested", std::string(40, 'a') + "!"}});
    CHECK(r.status == 422);
}

TEST_CASE("a string of the wrong length is not matched against its pattern", "[contract][pattern]") {
    spur::App app;
    app.post("/short", [](spur::Request&, spur::Response& res, spur::Body<contract_pattern_test::Short> in) {
        res.json({{"code", std::string_view(in->code)}});
    });
    Client client(app);
    // Too long and not matching: only the length is reported, the pattern never ran.
    auto r = client.post_json("/short", {{"code", std::string(64, 'b')}});
    REQUIRE(r.status == 422);
    CHECK(details(r) == std::vector<std::pair<std::string, std::string>>{{"/code", "maxLength"}});
    r = client.post_json("/short", {{"code", ""}});
    REQUIRE(r.status == 422);
    CHECK(details(r) == std::vector<std::pair<std::string, std::string>>{{"/code", "minLength"}});
    r = client.post_json("/short", {{"code", "ab"}});
    REQUIRE(r.status == 422);
    CHECK(details(r) == std::vector<std::pair<std::string, std::string>>{{"/code", "pattern"}});
    CHECK(client.post_json("/short", {{"code", "aaa"}}).status == 200);
}

TEST_CASE("a pattern RE2 cannot take fails when the route is registered, naming it", "[contract][pattern]") {
    using namespace contract_pattern_test;
    spur::App app;
    using Catch::Matchers::Contains;
    CHECK_THROWS_WITH(app.post("/b", [](spur::Request&, spur::Response&, spur::Body<BackReference>) {}),
                      Contains("^(a)\\1$") && Contains("RE2"));
    CHECK_THROWS_WITH(app.post("/l", [](spur::Request&, spur::Response&, spur::Body<Lookahead>) {}), Contains("^(?=a)"));
    CHECK_THROWS_WITH(app.post("/u", [](spur::Request&, spur::Response&, spur::Body<Unbalanced>) {}), Contains("^(ab$"));
    CHECK_THROWS_AS(app.get("/q", [](spur::Request&, spur::Response&, spur::Query<InQuery>) {}), std::invalid_argument);
    CHECK_THROWS_AS(app.get("/p/:s", [](spur::Request&, spur::Response&, spur::Path<spur::String<0, 9, "(">>) {}),
                    std::invalid_argument);
}

}  // namespace contract_test
