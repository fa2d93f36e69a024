#include <spur/openapi/openapi.hpp>

#include <spur/app.hpp>
#include <spur/contract/contract.hpp>
#include <spur/testing/client.hpp>

#include <boost/describe.hpp>
#include <boost/json.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <optional>

namespace openapi_test {
struct NoteIn {
    spur::String<1, 80> title;
    std::optional<spur::List<spur::String<1, 10>, 0, 5>> labels;
};
BOOST_DESCRIBE_STRUCT(NoteIn, (), (title, labels))

struct Note {
    std::int64_t id;
    std::string title;
};
BOOST_DESCRIBE_STRUCT(Note, (), (id, title))

struct Listing {
    std::optional<spur::Int<1, 50>> limit;
};
BOOST_DESCRIBE_STRUCT(Listing, (), (limit))
}  // namespace openapi_test

namespace openapi_test {
using spur::testing::Client;
namespace json = boost::json;

namespace {
spur::App notes_app() {
    spur::App app;
    spur::OpenApiOptions options;
    options.title = "Notes";
    options.version = "1.2.3";
    options.security_schemes["bearer"] = spur::bearer_jwt_scheme();
    spur::openapi(app, options);
    spur::Router notes;
    notes.post("/", [](spur::Request&, spur::Response& res, spur::Body<NoteIn> in) {
             res.status(201).json(Note{1, in->title});
         })
        .summary("Create a note")
        .security({"bearer"})
        .responds<Note>(201)
        .responds_error(401);
    notes.get("/", [](spur::Request&, spur::Response& res, spur::Query<Listing>) { res.json(std::vector<Note>{}); })
        .responds<std::vector<Note>>(200);
    notes.get("/:id", [](spur::Request&, spur::Response& res, spur::Path<spur::Int<1>> id) { res.json(Note{*id, "t"}); })
        .responds<Note>(200);
    notes.del("/:id", [](spur::Request&, spur::Response& res) { res.status(204).end(); }).responds(204, "Deleted");
    app.mount("/notes", notes);
    app.get("/files/*path", [](spur::Request&, spur::Response& res) { res.end(); }).tag("files");
    app.all("/any", [](spur::Request&, spur::Response& res) { res.end(); });
    app.get("/secret", [](spur::Request&, spur::Response& res) { res.end(); }).undocumented();
    return app;
}
}  // namespace

TEST_CASE("the document lists every documented route with {param} paths and operation ids", "[openapi]") {
    auto app = notes_app();
    auto doc = spur::openapi_document(app);
    CHECK(doc.at("openapi") == "3.1.0");
    CHECK(doc.at("info").at("title") == "Notes");
    CHECK(doc.at("info").at("version") == "1.2.3");
    const auto& paths = doc.at("paths").as_object();
    CHECK(paths.size() == 3);
    CHECK(paths.at("/notes").as_object().contains("post"));
    CHECK(paths.at("/notes").as_object().contains("get"));
    CHECK(paths.at("/notes/{id}").as_object().contains("delete"));
    CHECK(paths.at("/files/{path}").at("get").at("parameters").at(0).at("name") == "path");
    CHECK_FALSE(paths.contains("/secret"));
    CHECK_FALSE(paths.contains("/any"));  // all() has no OpenAPI method
    CHECK_FALSE(paths.contains("/openapi.json"));
    CHECK(paths.at("/notes/{id}").at("get").at("operationId") == "get_notes_id");
}

TEST_CASE("typed inputs become parameters and request bodies with the validator's constraints", "[openapi]") {
    auto app = notes_app();
    auto doc = spur::openapi_document(app);
    const auto& create = doc.at("paths").at("/notes").at("post");
    CHECK(create.at("summary") == "Create a note");
    CHECK(create.at("tags") == json::array{"notes"});  // from the mount prefix
    CHECK(create.at("requestBody").at("content").at("application/json").at("schema") ==
          json::parse(R"({"$ref":"#/components/schemas/NoteIn"})"));
    CHECK(doc.at("components").at("schemas").at("NoteIn") == json::parse(R"({
        "type":"object",
        "properties":{
          "title":{"type":"string","minLength":1,"maxLength":80},
          "labels":{"type":["array","null"],"items":{"type":"string","minLength":1,"maxLength":10},"maxItems":5}},
        "required":["title"],
        "additionalProperties":false})"));
    CHECK(create.at("security") == json::parse(R"([{"bearer":[]}])"));
    CHECK(doc.at("components").at("securitySchemes").at("bearer").at("scheme") == "bearer");

    const auto& list = doc.at("paths").at("/notes").at("get");
    CHECK(list.at("parameters") == json::parse(R"([{"name":"limit","in":"query","required":false,
        "schema":{"type":"integer","minimum":1,"maximum":50}}])"));
    const auto& show = doc.at("paths").at("/notes/{id}").at("get");
    CHECK(show.at("parameters") == json::parse(R"([{"name":"id","in":"path","required":true,
        "schema":{"type":"integer","minimum":1}}])"));
}

TEST_CASE("declared and implied responses carry their schemas, errors the envelope", "[openapi]") {
    auto app = notes_app();
    auto doc = spur::openapi_document(app);
    const auto& responses = doc.at("paths").at("/notes").at("post").at("responses").as_object();
    std::vector<std::string> statuses;
    for (const auto& kv : responses) statuses.emplace_back(kv.key());
    CHECK(statuses == std::vector<std::string>{"201", "400", "401", "413", "415", "422"});
    CHECK(responses.at("201").at("content").at("application/json").at("schema") ==
          json::parse(R"({"$ref":"#/components/schemas/Note"})"));
    CHECK(responses.at("422").at("content").at("application/json").at("schema") ==
          json::parse(R"({"$ref":"#/components/schemas/Error"})"));
    const auto& listing = doc.at("paths").at("/notes").at("get").at("responses");
    CHECK(listing.at("200").at("content").at("application/json").at("schema") ==
          json::parse(R"({"type":"array","items":{"$ref":"#/components/schemas/Note"}})"));
    const auto& removal = doc.at("paths").at("/notes/{id}").at("delete").at("responses");
    CHECK(removal.at("204") == json::parse(R"({"description":"Deleted"})"));
    CHECK(doc.at("paths").at("/notes/{id}").at("get").at("responses").as_object().contains("404"));
    const auto& error = doc.at("components").at("schemas").at("Error");
    CHECK(error.at("properties").at("error").at("properties").at("details").at("items") ==
          json::parse(R"({"$ref":"#/components/schemas/Violation"})"));
}

TEST_CASE("the validation status in the document follows the app's", "[openapi]") {
    spur::AppOptions options;
    options.validation_status = 400;
    spur::App app(options);
    app.post("/n", [](spur::Request&, spur::Response& res, spur::Body<NoteIn>) { res.end(); });
    auto doc = spur::openapi_document(app);
    const auto& responses = doc.at("paths").at("/n").at("post").at("responses").as_object();
    CHECK(responses.contains("400"));
    CHECK_FALSE(responses.contains("422"));
}

TEST_CASE("routes() lists every route, documented or not", "[openapi]") {
    auto app = notes_app();
    auto routes = app.routes();
    auto has = [&](std::string_view method, std::string_view pattern, bool documented) {
        return std::any_of(routes.begin(), routes.end(), [&](const spur::RouteInfo& r) {
            return r.method == method && r.pattern == pattern && r.documented == documented;
        });
    };
    CHECK(has("GET", "/openapi.json", false));
    CHECK(has("POST", "/notes", true));
    CHECK(has("GET", "/secret", false));
    CHECK(has("*", "/any", true));
}

TEST_CASE("the document is served, built once the routes are final", "[openapi]") {
    auto app = notes_app();
    app.get("/late", [](spur::Request&, spur::Response& res) { res.end(); });
    Client client(app);
    auto r = client.get("/openapi.json");
    REQUIRE(r.status == 200);
    CHECK(r.header("Content-Type") == "application/json");
    CHECK(r.json().at("paths").as_object().contains("/late"));
}

TEST_CASE("the docs page is served from local assets under a CSP without inline scripts", "[openapi]") {
    auto dir = std::filesystem::temp_directory_path() / "spur-openapi-test-assets";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "swagger-ui.css") << "body{}";
    std::ofstream(dir / "swagger-ui-bundle.js") << "window.SwaggerUIBundle=function(){};";
    spur::App app;
    spur::OpenApiOptions options;
    options.title = "<Notes>";
    options.docs_assets = dir;
    spur::openapi(app, options);
    Client client(app);
    auto page = client.get("/docs");
    REQUIRE(page.status == 200);
    CHECK(page.header("Content-Type").starts_with("text/html"));
    CHECK(page.body.find("<title>&lt;Notes&gt; — API docs</title>") != std::string::npos);
    CHECK(page.body.find("<script>") == std::string::npos);  // no inline script
    const auto csp = std::string(page.header("Content-Security-Policy"));
    CHECK(csp.find("script-src 'self';") != std::string::npos);
    CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
    auto init = client.get("/docs/init.js");
    CHECK(init.body.find(R"(url: "/openapi.json")") != std::string::npos);
    auto bundle = client.get("/docs/assets/swagger-ui-bundle.js");
    CHECK(bundle.status == 200);
    CHECK(bundle.body == "window.SwaggerUIBundle=function(){};");
    CHECK(client.get("/docs/assets/../../etc/passwd").status == 404);

    spur::OpenApiOptions missing;
    missing.docs_assets = dir / "nowhere";
    spur::App other;
    CHECK_THROWS_AS(spur::openapi(other, missing), std::invalid_argument);
    std::filesystem::remove_all(dir);
}

TEST_CASE("the docs assets are only the files the page loads: no demo index.html, no source maps", "[openapi]") {
    auto dir = std::filesystem::temp_directory_path() / "spur-openapi-test-allowlist";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "swagger-ui.css") << "body{}";
    std::ofstream(dir / "swagger-ui-bundle.js") << "window.SwaggerUIBundle=function(){};";
    // What else swagger-ui-dist ships.
    for (const char* extra : {"index.html", "swagger-ui-bundle.js.map", "swagger-ui.css.map", "swagger-initializer.js",
                              "swagger-ui-standalone-preset.js", "oauth2-redirect.html", "favicon-32x32.png"})
        std::ofstream(dir / extra) << "x";
    spur::App app;
    spur::OpenApiOptions options;
    options.docs_assets = dir;
    spur::openapi(app, options);
    Client client(app);
    auto css = client.get("/docs/assets/swagger-ui.css");
    CHECK(css.status == 200);
    CHECK(css.header("Content-Type").starts_with("text/css"));
    CHECK(client.get("/docs/assets/swagger-ui-bundle.js").status == 200);
    for (const char* extra : {"index.html", "swagger-ui-bundle.js.map", "swagger-ui.css.map", "swagger-initializer.js",
                              "swagger-ui-standalone-preset.js", "oauth2-redirect.html", "favicon-32x32.png", "", "./index.html",
                              "sub/swagger-ui.css"}) {
        INFO(extra);
        auto r = client.get(std::string("/docs/assets/") + extra);
        CHECK(r.status == 404);
        CHECK(r.body != "x");
    }
    std::filesystem::remove_all(dir);
}

}  // namespace openapi_test
