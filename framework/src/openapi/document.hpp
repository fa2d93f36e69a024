#pragma once
// Builds the OpenAPI 3.1 document of a route table.

#include <spur/openapi/openapi.hpp>
#include <spur/router.hpp>

#include <boost/json/value.hpp>

#include <memory>
#include <string>
#include <vector>

namespace spur::detail {

/// "/api/texts/:id" -> "/api/texts/{id}"; an unnamed "*" becomes "{wildcard}".
std::string openapi_path(std::string_view pattern);

/// The document of `routes` (undocumented ones and methods OpenAPI cannot name left out).
/// Validation errors are documented with `validation_status`.
boost::json::value build_openapi(const std::vector<RouteInfo>& routes, const OpenApiOptions& options,
                                 int validation_status);

}  // namespace spur::detail
