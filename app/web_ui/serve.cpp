#include "web_ui/serve.hpp"

#include <spur/middleware/static_files.hpp>

#include <fstream>
#include <memory>
#include <sstream>

namespace app::web_ui {

namespace {
// Scripts and styles only from this origin, nothing inline; the API is on the same origin.
constexpr const char* page_csp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

bool wants_html(const spur::Request& req) {
    return (req.method() == "GET" || req.method() == "HEAD") && req.header("Accept").find("text/html") != std::string_view::npos;
}

bool is_api(std::string_view path) {
    return path == "/api" || path.starts_with("/api/") || path == "/openapi.json" || path == "/docs" ||
           path.starts_with("/docs/");
}
}  // namespace

bool serve(spur::App& app, const std::filesystem::path& root) {
    std::ifstream file(root / "index.html", std::ios::binary);
    if (!file) return false;
    std::ostringstream text;
    text << file.rdbuf();
    auto index = std::make_shared<const std::string>(text.str());  // read once: it changes with a deploy

    auto send_index = [index](spur::Response& res) {
        res.set("Cache-Control", "no-cache");
        res.set("Content-Security-Policy", page_csp);
        res.type("html").send(*index);
    };
    // Client-side routes (/texts/42, /keys): a browser navigation to a path no route serves
    // gets the app, which routes it. Runs before routing answers its 404, and only then (a
    // step that answers ends the chain).
    app.use(spur::before([send_index](spur::Request& req, spur::Response& res) {
        if (req.route_pattern().empty() && wants_html(req) && !is_api(req.path())) send_index(res);
    }));
    app.get("/", [send_index](spur::Request&, spur::Response& res) { send_index(res); }).undocumented();

    spur::middleware::StaticOptions assets;
    assets.index = "";
    assets.max_age = std::chrono::hours(24 * 365);
    assets.immutable = true;      // Vite puts a content hash in every asset's name
    assets.precompressed = true;  // the build gzips them (app/CMakeLists.txt)
    app.get("/assets/*file", spur::middleware::static_files(root / "assets", assets)).undocumented();
    return true;
}

}  // namespace app::web_ui
