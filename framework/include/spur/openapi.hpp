#pragma once
// spur's OpenAPI 3.1 support: the document built from the route table, and where it is served.

#include <boost/json/object.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace spur {

/// Settings of App::openapi().
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

/// One registered route, as App::routes() lists it.
struct RouteInfo {
    std::string method;   ///< "GET", or "*" for all()
    std::string pattern;  ///< "/api/texts/:id"
    bool documented;      ///< false for routes marked undocumented()
};

}  // namespace spur
