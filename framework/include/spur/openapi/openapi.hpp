#pragma once
// spur's OpenAPI 3.1 support: the document built from the route table, and where it is served.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace spur {

class App;

/// Settings of spur::openapi().
struct OpenApiOptions {
    std::string title = "API";        ///< info.title
    std::string version = "0.1.0";    ///< info.version: the API's version, not OpenAPI's
    std::string description;          ///< info.description (CommonMark)
    std::string path = "/openapi.json";
    /// The interactive page (Swagger UI). Served only when docs_assets is set.
    std::string docs_path = "/docs";
    /// A directory holding Swagger UI's distribution files (the npm package swagger-ui-dist:
    /// swagger-ui.css and swagger-ui-bundle.js). Nothing is fetched from a CDN. Only those two
    /// files are served under docs_path/assets/; any other name there (the package's demo
    /// index.html, its *.map source maps) answers 404.
    std::filesystem::path docs_assets;
    /// components.securitySchemes, by name; routes name them in RouteConfig::security.
    boost::json::object security_schemes;
};

/// A security scheme for `Authorization: Bearer <JWT>`.
boost::json::object bearer_jwt_scheme();
/// A security scheme for an API key sent in header `name`.
boost::json::object api_key_header_scheme(std::string name);

/// Serves the OpenAPI 3.1 document of every route of `app` at options.path, and the
/// interactive page at options.docs_path when options.docs_assets is set (FastAPI's /docs).
/// The document is built once, when the app starts serving, from the routes registered by
/// then; these routes are left out of it. Throws std::invalid_argument for a path not starting
/// with '/' or a docs_assets that does not hold Swagger UI, and std::logic_error once the app
/// serves or if it serves a document already.
void openapi(App& app, OpenApiOptions options);
/// Builds the OpenAPI document of `app` now, from the routes registered so far (with the
/// options given to openapi(), if any) — for a command that prints it.
boost::json::value openapi_document(const App& app);

}  // namespace spur
