// spur::openapi: the document at /openapi.json and Swagger UI at /docs, from local files only.
#include <spur/openapi/openapi.hpp>

#include <spur/app.hpp>
#include <spur/middleware/static_files.hpp>

#include "openapi/document.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <iterator>
#include <memory>
#include <stdexcept>

namespace spur {

namespace {
// Swagger UI renders with inline style attributes (set from script, which CSP allows) and
// data: images; its scripts are files of ours, so script-src stays 'self' with no inline code.
constexpr const char* docs_csp =
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// The files of swagger-ui-dist the page loads. The package also holds a demo index.html with
// its own configuration (pointing at petstore.swagger.io), a standalone preset, and source
// maps of the whole bundle: none is ours to publish, so only these are served.
constexpr std::string_view docs_asset_files[] = {"swagger-ui.css", "swagger-ui-bundle.js"};

std::string escape_html(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out.push_back(c);
        }
    }
    return out;
}

std::string docs_page(const OpenApiOptions& o) {
    const std::string base = escape_html(o.docs_path);
    return "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
           escape_html(o.title) + " — API docs</title>\n<link rel=\"stylesheet\" href=\"" + base +
           "/assets/swagger-ui.css\">\n</head>\n<body>\n<div id=\"swagger-ui\"></div>\n<script src=\"" + base +
           "/assets/swagger-ui-bundle.js\"></script>\n<script src=\"" + base + "/init.js\"></script>\n</body>\n</html>\n";
}

std::string docs_script(const OpenApiOptions& o) {
    const std::string url = boost::json::serialize(boost::json::value(o.path));
    return "window.ui = SwaggerUIBundle({ url: " + url +
           ", dom_id: '#swagger-ui', deepLinking: true, persistAuthorization: false, tryItOutEnabled: true });\n";
}

// The app's OpenAPI settings and its document, serialised once when the routes are final;
// handlers only copy the text.
struct OpenApiDocument final : Extension {
    explicit OpenApiDocument(OpenApiOptions o) : options(std::move(o)) {}
    void frozen(const App& app) override { text = boost::json::serialize(openapi_document(app)); }
    OpenApiOptions options;
    std::string text;
};

}  // namespace

boost::json::value openapi_document(const App& app) {
    const auto* served = app.extensions().find<OpenApiDocument>();
    return detail::build_openapi(app.routes(), served ? served->options : OpenApiOptions{},
                                 app.settings().validation_status);
}

void openapi(App& app, OpenApiOptions options) {
    if (app.extensions().frozen()) throw std::logic_error("spur::openapi: the app is serving already");
    if (app.extensions().find<OpenApiDocument>()) throw std::logic_error("spur::openapi: the app serves a document already");
    if (options.path.empty() || options.path.front() != '/') throw std::invalid_argument("OpenApiOptions::path must start with '/'");
    if (!options.docs_assets.empty()) {
        for (auto file : docs_asset_files)
            if (!std::filesystem::is_regular_file(options.docs_assets / file))
                throw std::invalid_argument("OpenApiOptions::docs_assets has no " + std::string(file) + ": " +
                                            options.docs_assets.string());
    }
    const auto* document = &app.extensions().emplace<OpenApiDocument>(options);
    app.get(options.path, [document](Request&, Response& res) {
        res.set("Cache-Control", "no-cache");
        res.type("application/json").send(document->text);
    }).undocumented();

    if (!options.docs_assets.empty()) {
        auto page = std::make_shared<const std::string>(docs_page(options));
        auto script = std::make_shared<const std::string>(docs_script(options));
        app.get(options.docs_path, [page](Request&, Response& res) {
            res.set("Content-Security-Policy", docs_csp);
            res.set("Cache-Control", "no-cache");
            res.type("html").send(*page);
        }).undocumented();
        app.get(options.docs_path + "/init.js", [script](Request&, Response& res) {
            res.set("Cache-Control", "no-cache");
            res.type("application/javascript; charset=utf-8").send(*script);
        }).undocumented();
        middleware::StaticOptions assets;
        assets.index = "";
        assets.max_age = std::chrono::hours(24);
        Middleware page_assets_only = [](Request& req, Response&, Next next) -> Task<> {
            if (std::find(std::begin(docs_asset_files), std::end(docs_asset_files), req.param("file")) == std::end(docs_asset_files))
                throw HttpError(404, "not_found", "Not Found");
            co_await next();
        };
        app.get(options.docs_path + "/assets/*file", std::move(page_assets_only), middleware::static_files(options.docs_assets, assets))
            .undocumented();
    }
}

}  // namespace spur
