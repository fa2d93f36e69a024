#pragma once
// spur::detail::RouteDoc — what RouteConfig declares about a route, as features (the OpenAPI
// document) read it from App::routes().

#include <spur/detail/contract_fwd.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace spur::detail {

/// One documented response of a route: a schema (null for no body) and what it means.
struct ResponseDoc {
    int status = 200;
    SchemaFn schema = nullptr;
    std::string description;
    std::string media_type = "application/json";
};

/// What the OpenAPI document says about a route beyond its method, pattern and inputs.
/// A parameter declared with RouteConfig::parameter.
struct ParameterDoc {
    std::string in, name, description;
    bool required = false;
};

struct RouteDoc {
    std::string summary;
    std::string description;
    std::vector<std::string> tags;
    std::vector<std::string> security;  ///< any one of these schemes; empty = none
    std::vector<ResponseDoc> responses;
    std::vector<ParameterDoc> parameters;
    bool hidden = false;
};

/// The error envelope's schema ({"$ref":"#/components/schemas/Error"}), for responds_error.
boost::json::value error_schema(SchemaRegistry& registry);

/// The parameter names of a pattern in order: "/a/:x/*rest" -> {"x", "rest"}.
std::vector<std::string> pattern_params(std::string_view pattern);

}  // namespace spur::detail
