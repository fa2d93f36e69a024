#pragma once
// What a typed handler tells the OpenAPI generator about its inputs; the templates behind it
// are in <spur/contract/contract.hpp>.

#include <boost/json/fwd.hpp>

#include <string>
#include <vector>

namespace spur {
struct ExtractorDoc;
}

namespace spur::detail {

class SchemaRegistry;

/// Builds the JSON Schema of one type, registering named components on the way.
using SchemaFn = boost::json::value (*)(SchemaRegistry&);
/// Appends OpenAPI parameter objects; `route_params` are the route's parameter names in order.
using ParamsFn = void (*)(SchemaRegistry&, boost::json::array& out, const std::vector<std::string>& route_params);

/// The typed inputs of a handler (all null for an untyped one).
struct Inputs {
    SchemaFn body = nullptr;
    /// The schema of a Form<T> body, and whether it takes files (then it is multipart only).
    SchemaFn form = nullptr;
    bool form_files = false;
    ParamsFn query = nullptr;
    ParamsFn path = nullptr;
    ParamsFn header = nullptr;
    ParamsFn cookie = nullptr;
    /// Fills in what the handler's own extractors document (security, error answers).
    void (*extractors)(ExtractorDoc&) = nullptr;
    /// Checks the route's parameter names against Path<T>; returns "" or what is wrong.
    std::string (*check_path)(const std::vector<std::string>& route_params) = nullptr;
};

template <class T>
boost::json::value schema_of(SchemaRegistry& registry);

}  // namespace spur::detail
