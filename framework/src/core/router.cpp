#include <spur/router.hpp>

#include "core/route.hpp"
#include "core/route_tree.hpp"

#include <spur/strings.hpp>

#include <boost/json/value.hpp>

#include <stdexcept>

namespace spur {

namespace detail {

std::string normalize_method(std::string_view method) {
    if (method == "*") return "*";
    if (method.empty()) throw std::invalid_argument("empty HTTP method");
    std::string out;
    out.reserve(method.size());
    for (char c : method) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        bool ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok) throw std::invalid_argument("invalid HTTP method: " + std::string(method));
        out.push_back(c);
    }
    return out;
}

std::string join_pattern(std::string_view prefix, std::string_view pattern) {
    std::string out;
    if (!prefix.empty() && prefix.front() != '/') out.push_back('/');
    out.append(prefix);
    while (!out.empty() && out.back() == '/') out.pop_back();
    if (pattern.empty() || pattern.front() != '/') out.push_back('/');
    out.append(pattern);
    if (out.size() > 1 && out.back() == '/') out.pop_back();
    return out;
}

std::shared_ptr<Route> make_route(std::string_view method, std::string_view path, std::vector<Middleware> middleware,
                                  Handler handler) {
    if (!handler) throw std::invalid_argument("route needs a handler");
    if (path.empty() || path.front() != '/')
        throw std::invalid_argument("route pattern must start with '/': \"" + std::string(path) + "\"");
    auto route = std::make_shared<Route>();
    route->method = normalize_method(method);
    route->pattern = join_pattern("", path);
    route->middleware = std::move(middleware);
    route->handler = std::move(handler);
    return route;
}

std::vector<std::string> pattern_params(std::string_view pattern) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if ((pattern[i] != ':' && pattern[i] != '*') || (i > 0 && pattern[i - 1] != '/')) continue;
        auto end = pattern.find('/', i);
        auto name = pattern.substr(i + 1, end == std::string_view::npos ? std::string_view::npos : end - i - 1);
        if (!name.empty()) out.emplace_back(name);
        else if (pattern[i] == '*') out.emplace_back("*");
    }
    return out;
}

}  // namespace detail

RouteConfig& RouteConfig::summary(std::string text) {
    route_->doc.summary = std::move(text);
    return *this;
}

RouteConfig& RouteConfig::description(std::string text) {
    route_->doc.description = std::move(text);
    return *this;
}

RouteConfig& RouteConfig::tag(std::string name) {
    route_->doc.tags.push_back(std::move(name));
    return *this;
}

RouteConfig& RouteConfig::security(std::vector<std::string> schemes) {
    route_->doc.security = std::move(schemes);
    return *this;
}

RouteConfig& RouteConfig::parameter(std::string in, std::string name, std::string description, bool required) {
    if (in != "header" && in != "query" && in != "cookie")
        throw std::invalid_argument("RouteConfig::parameter: `in` is \"header\", \"query\" or \"cookie\", not \"" + in + "\"");
    route_->doc.parameters.push_back({std::move(in), std::move(name), std::move(description), required});
    return *this;
}

RouteConfig& RouteConfig::responds(int status, std::string description) {
    return add_response(status, nullptr, std::move(description));
}

namespace {
boost::json::value text_schema(detail::SchemaRegistry&) { return {{"type", "string"}}; }
}  // namespace

RouteConfig& RouteConfig::responds_text(int status, std::string media_type, std::string description) {
    return add_response(status, &text_schema, std::move(description), std::move(media_type));
}

RouteConfig& RouteConfig::undocumented() {
    route_->doc.hidden = true;
    return *this;
}

RouteConfig& RouteConfig::add_response(int status, detail::SchemaFn schema, std::string description,
                                       std::string media_type) {
    if (status < 100 || status > 599) throw std::invalid_argument("response status must be 100..599");
    auto& responses = route_->doc.responses;
    std::erase_if(responses, [status](const detail::ResponseDoc& r) { return r.status == status; });
    responses.push_back({status, schema, std::move(description), std::move(media_type)});
    return *this;
}

RouteConfig& RouteConfig::body_limit(std::size_t bytes) {
    route_->body_limit = bytes;
    return *this;
}

RouteConfig& RouteConfig::run_to_completion() {
    route_->cancel_on_disconnect = false;
    return *this;
}

RouteConfig& RouteConfig::stream_body() {
    route_->stream_body = true;
    return *this;
}

Router::Router() : tree_(std::make_unique<detail::RouteTree>()) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

Router& Router::use(Middleware middleware) {
    if (!middleware) throw std::invalid_argument("empty middleware");
    middleware_.push_back(std::move(middleware));
    return *this;
}

RouteConfig Router::add_route(std::string_view method, std::string_view path, std::vector<Middleware> middleware,
                              Handler handler) {
    auto route = detail::make_route(method, path, std::move(middleware), std::move(handler));
    tree_->insert(route);
    routes_.push_back(route);
    return RouteConfig(std::move(route));
}

Router& Router::tag(std::string name) {
    tag_ = std::move(name);
    return *this;
}

Router& Router::mount(std::string_view prefix, const Router& child) {
    for (auto& route : child.flattened(prefix)) {
        tree_->insert(route);
        routes_.push_back(std::move(route));
    }
    return *this;
}

std::vector<std::shared_ptr<detail::Route>> Router::flattened(std::string_view prefix) const {
    std::vector<std::shared_ptr<detail::Route>> out;
    out.reserve(routes_.size());
    for (const auto& route : routes_) {
        auto copy = std::make_shared<detail::Route>(*route);
        copy->pattern = detail::join_pattern(prefix, route->pattern);
        copy->middleware = middleware_;
        copy->middleware.insert(copy->middleware.end(), route->middleware.begin(), route->middleware.end());
        if (copy->doc.tags.empty()) {
            // "/api/texts" -> "texts": the prefix's last static segment names the group.
            std::string_view group;
            ListItems segments(prefix, '/');
            while (auto segment = segments.next())
                if (segment->front() != ':' && segment->front() != '*') group = *segment;
            if (!tag_.empty()) copy->doc.tags.push_back(tag_);
            else if (!group.empty()) copy->doc.tags.emplace_back(group);
        }
        out.push_back(std::move(copy));
    }
    return out;
}

}  // namespace spur
