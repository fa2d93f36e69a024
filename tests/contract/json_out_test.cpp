// Response::json(typed) writes JSON text straight from the value (detail::JsonOut,
// Contract<T>::emit). It must give exactly the bytes boost::json::serialize gives for the
// value Contract<T>::write builds: the same escapes, numbers, member order and nulls.
#include <spur/detail/json_out.hpp>

#include <spur/app.hpp>
#include <spur/contract/contract.hpp>
#include <spur/testing/client.hpp>

#include <boost/describe.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace json_out_test {

BOOST_DEFINE_ENUM_CLASS(Shade, light, dark)

struct Inner {
    std::string note;
    std::optional<spur::Int<0, 9>> digit;
};
BOOST_DESCRIBE_STRUCT(Inner, (), (note, digit))

struct All {
    bool yes = true;
    bool no = false;
    std::int8_t tiny = -8;
    std::uint16_t port = 65535;
    std::int32_t small = std::numeric_limits<std::int32_t>::min();
    std::int64_t least = std::numeric_limits<std::int64_t>::min();
    std::uint64_t most = std::numeric_limits<std::uint64_t>::max();
    spur::Int<-5, 5> level = -5;
    double tenth = 0.1;
    double huge = 1e300;
    double negative_zero = -0.0;
    double whole = 3.0;
    float single = 1.5f;
    spur::Number<0, 100, 10> share = 2.5;
    std::string text;
    spur::String<0, 100> bounded = "b\"q\\";
    spur::Email email = "a@example.com";
    Shade shade = Shade::dark;
    Shade unknown = static_cast<Shade>(7);
    std::optional<std::string> absent;
    std::optional<Inner> present = Inner{"n\n", 3};
    std::vector<int> none;
    std::vector<Inner> many = {Inner{"x", std::nullopt}, Inner{"\x01y", 0}};
    spur::List<std::string, 0, 5> list = {"p", "q"};
    std::map<std::string, double> scores = {{"k\"ey", 1.25}, {"\x1f", -2.0}, {"", 0.0}};
    std::map<std::string, int> empty_map;
    boost::json::value anything = boost::json::parse(R"({"a":[1,2.5,"s\u0007",null,true],"b":{}})");
};
BOOST_DESCRIBE_STRUCT(All, (),
                      (yes, no, tiny, port, small, least, most, level, tenth, huge, negative_zero, whole, single, share,
                       text, bounded, email, shade, unknown, absent, present, none, many, list, scores, empty_map,
                       anything))

template <class T>
std::string via_dom(const T& v) {
    return boost::json::serialize(spur::to_json(v));
}
template <class T>
std::string direct(const T& v) {
    std::string out;
    spur::write_json(out, v);
    return out;
}

TEST_CASE("typed values written straight to text equal the serialised DOM, byte for byte", "[contract][json]") {
    All all;
    for (int c = 0; c < 0x80; ++c) all.text.push_back(static_cast<char>(c));  // every control character
    all.text += "é€😀\xff\xfe\xc3";  // UTF-8, and bytes that are not: copied as they are
    CHECK(direct(all) == via_dom(all));
    CHECK(direct(Inner{}) == R"({"note":"","digit":null})");
    CHECK(direct(std::vector<All>{all, All{}}) == via_dom(std::vector<All>{all, All{}}));
    CHECK(direct(std::optional<All>{}) == "null");
    CHECK(direct(std::numeric_limits<double>::denorm_min()) == via_dom(std::numeric_limits<double>::denorm_min()));

    // Any string: random bytes, biased towards the ones that are escaped.
    std::mt19937 random(20261207);
    std::vector<std::string> differ;
    for (int i = 0; i < 2000; ++i) {
        std::string s(random() % 100, '\0');
        for (auto& ch : s) {
            const auto r = random() % 4;
            ch = static_cast<char>(r == 0 ? random() % 0x20 : r == 1 ? "\"\\/\x7f"[random() % 4] : random() % 256);
        }
        const Inner v{s, std::nullopt};
        if (direct(v) != via_dom(v)) differ.push_back(s);
    }
    CHECK(differ.empty());
}

TEST_CASE("res.json(typed) sends the text with application/json unless a Content-Type is set", "[contract][json]") {
    spur::App app;
    app.get("/inner", [](spur::Request&, spur::Response& res) { res.json(Inner{"hi \"you\"", 4}); });
    app.get("/problem", [](spur::Request&, spur::Response& res) {
        res.status(400).type("application/problem+json").json(Inner{"bad", std::nullopt});
    });
    spur::testing::Client client(app);
    auto r = client.get("/inner");
    CHECK(r.status == 200);
    CHECK(r.header("Content-Type") == "application/json");
    CHECK(r.body == R"({"note":"hi \"you\"","digit":4})");
    r = client.get("/problem");
    CHECK(r.status == 400);
    CHECK(r.header("Content-Type") == "application/problem+json");
    CHECK(r.body == R"({"note":"bad","digit":null})");
}

}  // namespace json_out_test
