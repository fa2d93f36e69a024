#include <spur/router.hpp>

#include "core/route.hpp"
#include "core/route_tree.hpp"

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

}  // namespace detail

RouteConfig& RouteConfig::body_limit(std::size_t bytes) {
    route_->body_limit = bytes;
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
        out.push_back(std::move(copy));
    }
    return out;
}

}  // namespace spur
