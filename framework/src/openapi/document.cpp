// The OpenAPI 3.1 document, built from the route table: each route's pattern, typed inputs
// and declared responses. The schemas come from the same Contract<T> code that validates.
#include "openapi/document.hpp"

#include <spur/contract/contract.hpp>
#include <spur/http_error.hpp>

#include <algorithm>
#include <set>

namespace spur {

boost::json::object bearer_jwt_scheme() {
    return {{"type", "http"}, {"scheme", "bearer"}, {"bearerFormat", "JWT"}};
}

boost::json::object api_key_header_scheme(std::string name) {
    return {{"type", "apiKey"}, {"in", "header"}, {"name", std::move(name)}};
}

namespace detail {

boost::json::value error_schema(SchemaRegistry&) { return {{"$ref", "#/components/schemas/Error"}}; }

namespace {

void define_error_envelope(SchemaRegistry& registry) {
    registry.define("Violation", {{"type", "object"},
                                  {"required", {"in", "path", "rule", "message"}},
                                  {"properties",
                                   {{"in", {{"type", "string"}, {"enum", {"body", "query", "path", "header", "cookie", "form"}}}},
                                    {"path", {{"type", "string"}, {"description", "JSON pointer to the field"}}},
                                    {"rule", {{"type", "string"}, {"description", "the JSON Schema keyword that failed"}}},
                                    {"message", {{"type", "string"}}}}},
                                  {"additionalProperties", false}});
    registry.define(
        "Error",
        {{"type", "object"},
         {"required", {"success", "error"}},
         {"properties",
          {{"success", {{"const", false}}},
           {"error",
            {{"type", "object"},
             {"required", {"code", "message", "request_id", "trace_id"}},
             {"properties",
              {{"code", {{"type", "string"}}},
               {"message", {{"type", "string"}}},
               {"request_id", {{"type", "string"}, {"description", "the request's id, as in its log lines: quote it when reporting the error"}}},
               {"trace_id",
                {{"type", "string"},
                 {"pattern", "^[0-9a-f]{32}$"},
                 {"description", "the W3C trace id of the request, as in its log lines and in the traceparent of the calls it made"}}},
               {"details", {{"type", "array"}, {"items", {{"$ref", "#/components/schemas/Violation"}}}}}}},
             {"additionalProperties", false}}}}},
         {"additionalProperties", false}});
}

bool openapi_method(std::string_view m) {
    static constexpr std::string_view methods[] = {"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"};
    return std::find(std::begin(methods), std::end(methods), m) != std::end(methods);
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// "post_api_texts_id": stable, readable, and what client generators name functions after.
std::string operation_id(const RouteInfo& route, std::set<std::string>& taken) {
    std::string id = lower(route.method);
    for (char c : route.pattern) {
        const bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (word) id.push_back(c);
        else if (id.back() != '_') id.push_back('_');
    }
    while (id.back() == '_') id.pop_back();
    std::string unique = id;
    for (int n = 2; !taken.insert(unique).second; ++n) unique = id + "_" + std::to_string(n);
    return unique;
}

boost::json::object response_object(SchemaRegistry& registry, const ResponseDoc& r) {
    boost::json::object o{{"description", r.description.empty() ? reason_phrase(r.status) : r.description}};
    if (r.schema) o["content"] = {{r.media_type, {{"schema", r.schema(registry)}}}};
    return o;
}

boost::json::object operation(SchemaRegistry& registry, const RouteInfo& route, int validation_status,
                              std::set<std::string>& ids) {
    const auto& doc = *route.doc;
    const Inputs* in = route.inputs;
    boost::json::object op;
    op["operationId"] = operation_id(route, ids);
    if (!doc.summary.empty()) op["summary"] = doc.summary;
    if (!doc.description.empty()) op["description"] = doc.description;
    if (!doc.tags.empty()) {
        boost::json::array tags;
        for (const auto& t : doc.tags) tags.emplace_back(t);
        op["tags"] = std::move(tags);
    }

    const auto names = pattern_params(route.pattern);
    boost::json::array parameters;
    if (in && in->path) {
        in->path(registry, parameters, names);
    } else {
        for (const auto& name : names)
            parameters.push_back({{"name", name == "*" ? "wildcard" : name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
    }
    if (in && in->query) in->query(registry, parameters, names);
    if (in && in->header) in->header(registry, parameters, names);
    if (in && in->cookie) in->cookie(registry, parameters, names);
    for (const auto& p : doc.parameters) {
        boost::json::object param{{"name", p.name}, {"in", p.in}, {"required", p.required}, {"schema", {{"type", "string"}}}};
        if (!p.description.empty()) param["description"] = p.description;
        parameters.push_back(std::move(param));
    }
    if (!parameters.empty()) op["parameters"] = std::move(parameters);

    if (in && in->body)
        op["requestBody"] = {{"required", true}, {"content", {{"application/json", {{"schema", in->body(registry)}}}}}};
    if (in && in->form) {
        // Files need multipart; plain fields may come either way, as a browser's form sends them.
        const boost::json::value schema = in->form(registry);
        boost::json::object content{{"multipart/form-data", {{"schema", schema}}}};
        if (!in->form_files) content["application/x-www-form-urlencoded"] = {{"schema", schema}};
        op["requestBody"] = {{"required", true}, {"content", std::move(content)}};
    }

    std::vector<ResponseDoc> responses = doc.responses;
    auto implied = [&](int status, std::string description) {
        const bool declared = std::any_of(responses.begin(), responses.end(), [&](const ResponseDoc& r) { return r.status == status; });
        if (!declared) responses.push_back({status, &error_schema, std::move(description)});
    };
    // What the handler's own extractors document: their error answers and security schemes.
    ExtractorDoc extracted;
    if (in && in->extractors) in->extractors(extracted);
    for (auto& [status, description] : extracted.errors) implied(status, std::move(description));
    std::vector<std::string> security = doc.security;
    for (auto& scheme : extracted.security) {
        if (std::find(security.begin(), security.end(), scheme) == security.end()) security.push_back(std::move(scheme));
    }
    if (in && in->path) implied(404, "The path names no resource");
    if (in && in->body) {
        implied(400, "The body is not valid JSON");
        implied(413, "The body is too large");
        implied(415, "The body is not JSON");
    }
    if (in && in->form) {
        implied(400, "The multipart body is malformed");
        implied(413, "The body is too large");
        implied(415, "The body is not a form");
    }
    if (in && (in->body || in->form || in->query || in->header || in->cookie)) implied(validation_status, "The input breaks its contract: every problem is listed in details");
    std::sort(responses.begin(), responses.end(), [](const ResponseDoc& a, const ResponseDoc& b) { return a.status < b.status; });
    boost::json::object out;
    for (const auto& r : responses) out[std::to_string(r.status)] = response_object(registry, r);
    if (out.empty()) out["default"] = {{"description", "Undocumented response"}};
    op["responses"] = std::move(out);

    if (!security.empty()) {
        boost::json::array schemes;
        for (const auto& scheme : security) schemes.push_back(boost::json::object{{scheme, boost::json::array{}}});
        op["security"] = std::move(schemes);
    }
    return op;
}

}  // namespace

std::string openapi_path(std::string_view pattern) {
    std::string out;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const bool segment_start = i == 0 || pattern[i - 1] == '/';
        if (segment_start && (pattern[i] == ':' || pattern[i] == '*')) {
            auto end = pattern.find('/', i);
            auto name = pattern.substr(i + 1, end == std::string_view::npos ? std::string_view::npos : end - i - 1);
            // Appended piece by piece: GCC 12 at -O2 warns (-Wstringop-overflow, a false
            // positive) on "{" + std::string(...) here, in every Release build.
            out += '{';
            out += name.empty() ? std::string_view("wildcard") : name;
            out += '}';
            i = end == std::string_view::npos ? pattern.size() : end - 1;
        } else {
            out.push_back(pattern[i]);
        }
    }
    return out;
}

boost::json::value build_openapi(const std::vector<RouteInfo>& routes, const OpenApiOptions& options,
                                 int validation_status) {
    SchemaRegistry registry;
    define_error_envelope(registry);
    boost::json::object paths;
    std::set<std::string> ids, tags;
    for (const auto& route : routes) {
        if (!route.documented || !route.doc || !openapi_method(route.method)) continue;
        auto& item = paths[openapi_path(route.pattern)];
        if (item.is_null()) item = boost::json::object{};
        item.as_object()[lower(route.method)] = operation(registry, route, validation_status, ids);
        tags.insert(route.doc->tags.begin(), route.doc->tags.end());
    }
    boost::json::object info{{"title", options.title}, {"version", options.version}};
    if (!options.description.empty()) info["description"] = options.description;
    boost::json::object components{{"schemas", registry.components()}};
    if (!options.security_schemes.empty()) components["securitySchemes"] = options.security_schemes;
    boost::json::object doc{{"openapi", "3.1.0"}, {"info", std::move(info)}, {"paths", std::move(paths)}, {"components", std::move(components)}};
    if (!tags.empty()) {
        boost::json::array list;
        for (const auto& t : tags) list.push_back(boost::json::object{{"name", t}});
        doc["tags"] = std::move(list);
    }
    return doc;
}

}  // namespace detail
}  // namespace spur
