// JSON request bodies through the json_body middleware, through a typed spur::Body<T> with
// every kind of member, and through the error handler.
// Oracle: no crash; json_body answers only 200 (valid JSON, echoed), 400 (malformed) or 413;
// the typed route only 200 (its struct written back as JSON), 400, 413 or 422 with details.
#include <spur/middleware/json_body.hpp>
#include <spur/spur.hpp>
#include <spur/testing/client.hpp>

#include <boost/describe.hpp>
#include <boost/json/parse.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fuzz {
BOOST_DEFINE_ENUM_CLASS(Kind, a, b, c)
struct Inner {
    spur::String<1, 8, "^[a-z]+$"> name;
    std::optional<std::int8_t> small;
};
BOOST_DESCRIBE_STRUCT(Inner, (), (name, small))
struct Outer {
    std::optional<bool> flag;
    std::optional<std::uint64_t> big;
    std::optional<spur::Int<-5, 5>> level;
    std::optional<spur::Number<0, 1>> share;
    std::optional<double> ratio;
    std::optional<spur::String<0, 4>> word;
    std::optional<spur::Email> email;
    std::optional<spur::DateTime> at;
    std::optional<spur::Uri> link;
    std::optional<Kind> kind;
    std::optional<spur::List<Inner, 0, 3>> items;
    std::optional<std::map<std::string, std::vector<int>>> table;
};
BOOST_DESCRIBE_STRUCT(Outer, (), (flag, big, level, share, ratio, word, email, at, link, kind, items, table))
}  // namespace fuzz

namespace {
spur::App& app() {
    static spur::App* a = [] {
        auto* app = new spur::App(spur::AppOptions{[](spur::LogLevel, std::string_view) {}});
        spur::middleware::JsonBodyOptions o;
        o.limit = 16 * 1024;
        app->post("/", spur::middleware::json_body(o), [](spur::Request& req, spur::Response& res) { res.json(req.json()); });
        app->post("/typed", [](spur::Request&, spur::Response& res, spur::Body<fuzz::Outer> in) { res.json(*in); })
            .body_limit(16 * 1024);
        return app;
    }();
    return *a;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    spur::testing::Client client(app());
    const std::string body(reinterpret_cast<const char*>(data), size);
    auto r = client.post("/", body, {{"Content-Type", "application/json"}});
    if (r.status != 200 && r.status != 400 && r.status != 413) __builtin_trap();
    if (r.status == 400 && r.body.find("\"success\":false") == std::string::npos) __builtin_trap();

    auto t = client.post("/typed", body, {{"Content-Type", "application/json"}});
    if (t.status != 200 && t.status != 400 && t.status != 413 && t.status != 422) __builtin_trap();
    boost::system::error_code ec;
    auto answer = boost::json::parse(t.body, ec);
    if (ec || !answer.is_object()) __builtin_trap();  // every answer, error or not, is a JSON object
    if (t.status == 422 && (!answer.at("error").as_object().contains("details") ||
                            answer.at("error").at("details").as_array().empty()))
        __builtin_trap();
    return 0;
}
