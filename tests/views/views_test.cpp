#include <spur/views/views.hpp>

#include <spur/app.hpp>
#include <spur/contract/contract.hpp>
#include <spur/testing/client.hpp>

#include "support/captured_log.hpp"

#include <boost/describe.hpp>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {
struct ViewsDir {
    fs::path dir = fs::temp_directory_path() / ("spur-views-" + std::to_string(::getpid()));
    ViewsDir() {
        fs::remove_all(dir);
        fs::create_directories(dir / "admin");
    }
    ~ViewsDir() { fs::remove_all(dir); }
    void write(const std::string& name, const std::string& text) const {
        std::ofstream(dir / (name + ".mustache"), std::ios::binary) << text;
    }
    spur::ViewOptions options() const { return spur::ViewOptions{.dir = dir}; }
};

const std::string attack = "<script>alert(\"x\")</script>&'";
const std::string escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&apos;";

struct Card {
    std::string title;
    int count;
};
BOOST_DESCRIBE_STRUCT(Card, (), (title, count))
}  // namespace

TEST_CASE("every interpolation is HTML-escaped unless the template marks it raw", "[views][concurrency]") {
    ViewsDir v;
    v.write("page", "a={{a}}|dot={{user.name}}|{{#items}}item={{.}};{{/items}}|{{#user}}in={{name}}{{/user}}|"
                    "{{> row}}|raw={{{a}}}|amp={{& a}}");
    v.write("row", "partial={{a}}");
    v.write("layout", "<title>{{a}}</title>{{{body}}}");
    spur::Views views(spur::ViewOptions{.dir = v.dir, .layout = "layout"});
    const json::value data = {{"a", attack}, {"user", {{"name", attack}}}, {"items", json::array{attack.c_str(), attack.c_str()}}};
    const auto html = views.render("page", data);
    CHECK(html == "<title>" + escaped + "</title>a=" + escaped + "|dot=" + escaped + "|item=" + escaped + ";item=" +
                      escaped + ";|in=" + escaped + "|partial=" + escaped + "|raw=" + attack + "|amp=" + attack);
}

TEST_CASE("partials come from the views directory, never from the data", "[views][concurrency]") {
    ViewsDir v;
    v.write("page", "[{{> admin/row}}]");
    v.write("admin/row", "row {{n}}");
    spur::Views views(v.options());
    // A value named like the partial is data, not a template that could inject markup.
    CHECK(views.render("page", {{"n", 7}, {"admin/row", "{{{n}}}<b>"}}) == "[row 7]");
}

TEST_CASE("values render as Mustache expects: numbers as JSON, null and false falsy, empty lists skipped", "[views][concurrency]") {
    ViewsDir v;
    v.write("page", "{{n}} {{f}} {{#t}}T{{/t}}{{#no}}N{{/no}}{{^nil}}nil{{/nil}}{{#empty}}E{{/empty}}{{^empty}}none{{/empty}}");
    spur::Views views(v.options());
    CHECK(views.render("page", {{"n", 2.5}, {"f", -3}, {"t", true}, {"no", false}, {"nil", nullptr}, {"empty", json::array{}}}) ==
          "2.5 -3 Tnilnone");
}

TEST_CASE("a layout wraps the page unless the render names another or none", "[views][concurrency]") {
    ViewsDir v;
    v.write("layout", "<main>{{{body}}}</main>{{title}}");
    v.write("plain", "<p>{{title}}</p>");
    spur::Views views(spur::ViewOptions{.dir = v.dir, .layout = "layout"});
    CHECK(views.render("plain", {{"title", "T"}}) == "<main><p>T</p></main>T");
    CHECK(views.render("plain", {{"title", "T"}}, "") == "<p>T</p>");
}

TEST_CASE("a missing, malformed or out-of-tree template is a ViewError naming the template", "[views][concurrency]") {
    ViewsDir v;
    v.write("broken", "{{#open}} never closed");
    v.write("uses_missing", "{{> nowhere}}");
    std::ofstream(v.dir.parent_path() / "outside.mustache") << "secret";
    spur::Views views(v.options());
    CHECK_THROWS_WITH(views.render("absent", json::object{}), Catch::Contains("\"absent\" not found"));
    CHECK_THROWS_WITH(views.render("broken", json::object{}), Catch::Contains("\"broken\""));
    CHECK_THROWS_WITH(views.render("uses_missing", json::object{}), Catch::Contains("\"nowhere\" not found"));
    CHECK_THROWS_AS(views.render("../outside", json::object{}), spur::ViewError);
    CHECK_THROWS_AS(views.render("/etc/passwd", json::object{}), spur::ViewError);
    CHECK_THROWS_AS(views.render("admin//x", json::object{}), spur::ViewError);
    CHECK_THROWS_AS(spur::Views(spur::ViewOptions{.dir = v.dir / "no-such-dir"}), std::invalid_argument);
    fs::remove(v.dir.parent_path() / "outside.mustache");
}

TEST_CASE("templates are compiled once unless reload is on, which picks up a changed file", "[views][concurrency]") {
    ViewsDir v;
    v.write("page", "one");
    spur::Views cached(v.options());
    spur::Views reloading(spur::ViewOptions{.dir = v.dir, .reload = true});
    CHECK(cached.render("page", json::object{}) == "one");
    CHECK(reloading.render("page", json::object{}) == "one");
    v.write("page", "two");
    // Make the change visible even on a file system with coarse timestamps.
    fs::last_write_time(v.dir / "page.mustache", fs::last_write_time(v.dir / "page.mustache") + std::chrono::seconds(2));
    CHECK(cached.render("page", json::object{}) == "one");
    CHECK(reloading.render("page", json::object{}) == "two");
}

TEST_CASE("renders from several threads share the compiled templates", "[views][concurrency]") {
    ViewsDir v;
    v.write("page", "{{#items}}<li>{{.}}</li>{{/items}}{{> part}}");
    v.write("part", "<p>{{n}}</p>");
    spur::Views views(v.options());
    std::vector<std::thread> threads;
    std::atomic<int> wrong{0};
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) {
                const auto html = views.render("page", {{"items", {t, i}}, {"n", i}});
                if (html != "<li>" + std::to_string(t) + "</li><li>" + std::to_string(i) + "</li><p>" + std::to_string(i) + "</p>")
                    ++wrong;
            }
        });
    for (auto& th : threads) th.join();
    CHECK(wrong == 0);
}

TEST_CASE("res.render answers text/html from the app's views, with described structs as data", "[views][concurrency]") {
    ViewsDir v;
    v.write("card", "<h1>{{title}}</h1><p>{{count}}</p>");
    spur::test::CapturedLog log;
    spur::App app(spur::AppOptions{.log = log.sink()});
    spur::views(app, v.options());
    app.get("/card", [](spur::Request& req, spur::Response& res) { spur::render(req, res, "card", Card{"<b>hi</b>", 3}); });
    app.get("/json", [](spur::Request& req, spur::Response& res) { spur::render(req, res.status(201), "card", {{"title", "x"}}); });
    app.get("/broken", [](spur::Request& req, spur::Response& res) { spur::render(req, res, "missing"); });
    spur::testing::Client client(app);
    auto r = client.get("/card");
    CHECK(r.status == 200);
    CHECK(r.header("Content-Type") == "text/html; charset=utf-8");
    CHECK(r.body == "<h1>&lt;b&gt;hi&lt;/b&gt;</h1><p>3</p>");
    r = client.get("/json");
    CHECK(r.status == 201);
    CHECK(r.body == "<h1>x</h1><p></p>");
    // A broken template is the server's fault: an opaque 500, the detail in the log only.
    r = client.get("/broken");
    CHECK(r.status == 500);
    CHECK(r.body.find("missing") == std::string::npos);
    CHECK(log.contains("template \"missing\" not found"));
    CHECK(spur::views(app).options().dir == v.dir);
}

TEST_CASE("res.render without views is a 500, and views cannot change once serving", "[views][concurrency]") {
    spur::test::CapturedLog log;
    spur::App app(spur::AppOptions{.log = log.sink()});
    app.get("/", [](spur::Request& req, spur::Response& res) { spur::render(req, res, "page"); });
    CHECK_THROWS_AS(spur::views(app), std::logic_error);
    spur::testing::Client client(app);
    CHECK(client.get("/").status == 500);
    CHECK(log.contains("app has no views"));
    ViewsDir v;
    CHECK_THROWS_AS(spur::views(app, v.options()), std::logic_error);
}

TEST_CASE("nested partials and a partial in a loop render from the views directory", "[views][concurrency]") {
    ViewsDir v;
    v.write("page", "<table>{{#rows}}{{> admin/row}}{{/rows}}</table>");
    v.write("admin/row", "<tr>{{> cell}}</tr>");
    v.write("cell", "<td>{{id}}:{{message}}</td>");
    spur::Views views(v.options());
    const json::value data = {{"rows", json::array{json::object{{"id", 1}, {"message", "<a>"}}, json::object{{"id", 2}, {"message", "b"}}}}};
    CHECK(views.render("page", data) == "<table><tr><td>1:&lt;a&gt;</td></tr><tr><td>2:b</td></tr></table>");
}

TEST_CASE("a partial that includes itself forever is a ViewError, not a crash", "[views][concurrency]") {
    ViewsDir v;
    v.write("page", "{{> loop}}");
    v.write("loop", "x{{> loop}}");
    spur::Views views(v.options());
    CHECK_THROWS_WITH(views.render("page", json::object{}), Catch::Contains("partial \"loop\" nested 64 deep"));
}

TEST_CASE("with reload on a changed partial is compiled again, and without it templates are compiled when the views are made", "[views][concurrency]") {
    ViewsDir v;
    v.write("page", "[{{> part}}]");
    v.write("part", "one");
    spur::Views cached(v.options());
    spur::Views reloading(spur::ViewOptions{.dir = v.dir, .reload = true});
    CHECK(reloading.render("page", json::object{}) == "[one]");
    v.write("part", "two");
    fs::last_write_time(v.dir / "part.mustache", fs::last_write_time(v.dir / "part.mustache") + std::chrono::seconds(2));
    // Compiled before the change, though never rendered until now.
    CHECK(cached.render("page", json::object{}) == "[one]");
    CHECK(reloading.render("page", json::object{}) == "[two]");
    // A template written after the views were made is found on its first render.
    v.write("later", "{{> part}}!");
    CHECK(cached.render("later", json::object{}) == "one!");
}
