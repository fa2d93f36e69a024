#include "core/route_tree.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace spur::detail {

struct RouteTree::Node {
    std::vector<std::pair<std::string, std::unique_ptr<Node>>> statics;  // sorted by segment
    std::unique_ptr<Node> param;
    std::string param_name;
    std::unique_ptr<Node> wildcard;  // always a leaf
    std::string wildcard_name;
    std::vector<std::shared_ptr<Route>> routes;  // at most one per method

    const Route* route_for(std::string_view method) const {
        const Route* any = nullptr;
        const Route* get = nullptr;
        for (const auto& r : routes) {
            if (r->method == method) return r.get();
            if (r->method == "*") any = r.get();
            if (r->method == "GET") get = r.get();
        }
        if (method == "HEAD" && get) return get;  // automatic HEAD for GET
        return any;
    }
};

namespace {

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool valid_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), is_name_char);
}

// Methods in the conventional order for Allow; unknown ones after, alphabetically.
int method_rank(std::string_view m) {
    static constexpr std::string_view order[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
    for (int i = 0; i < 6; ++i)
        if (order[i] == m) return i;
    return m == "OPTIONS" ? 100 : 50;
}

}  // namespace

struct RouteTree::Walk {
    std::string_view method;
    RawParams params;
    std::vector<const Node*> path_matches;  // nodes whose path matched but not the method, for 405's Allow
};

RouteTree::RouteTree() : root_(std::make_unique<Node>()) {}
RouteTree::~RouteTree() = default;
RouteTree::RouteTree(RouteTree&&) noexcept = default;
RouteTree& RouteTree::operator=(RouteTree&&) noexcept = default;

void RouteTree::insert(std::shared_ptr<Route> route) {
    const std::string& pattern = route->pattern;
    if (pattern.empty() || pattern.front() != '/')
        throw std::invalid_argument("route pattern must start with '/': \"" + pattern + "\"");

    Node* node = root_.get();
    std::string_view rest = std::string_view(pattern).substr(1);
    while (!rest.empty()) {
        auto slash = rest.find('/');
        std::string_view seg = rest.substr(0, slash);
        rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
        if (seg.empty()) throw std::invalid_argument("empty segment in route pattern \"" + pattern + "\"");

        if (seg.front() == ':') {
            auto name = seg.substr(1);
            if (!valid_name(name)) throw std::invalid_argument("bad parameter name in route pattern \"" + pattern + "\"");
            if (!node->param) {
                node->param = std::make_unique<Node>();
                node->param_name = std::string(name);
            } else if (node->param_name != name) {
                throw std::logic_error("route conflict: \"" + pattern + "\" names parameter :" + std::string(name) +
                                       " where another route has :" + node->param_name);
            }
            node = node->param.get();
        } else if (seg.front() == '*') {
            if (slash != std::string_view::npos)
                throw std::invalid_argument("'*' must be the last segment of route pattern \"" + pattern + "\"");
            std::string name = seg.size() == 1 ? std::string("*") : std::string(seg.substr(1));
            if (name != "*" && !valid_name(name))
                throw std::invalid_argument("bad wildcard name in route pattern \"" + pattern + "\"");
            if (!node->wildcard) {
                node->wildcard = std::make_unique<Node>();
                node->wildcard_name = name;
            } else if (node->wildcard_name != name) {
                throw std::logic_error("route conflict: \"" + pattern + "\" names wildcard " + name +
                                       " where another route has " + node->wildcard_name);
            }
            node = node->wildcard.get();
        } else {
            if (seg.find_first_of(":*") != std::string_view::npos)
                throw std::invalid_argument("':' and '*' may only start a segment: \"" + pattern + "\"");
            auto it = std::lower_bound(node->statics.begin(), node->statics.end(), seg,
                                       [](const auto& entry, std::string_view s) { return entry.first < s; });
            if (it == node->statics.end() || it->first != seg)
                it = node->statics.emplace(it, std::string(seg), std::make_unique<Node>());
            node = it->second.get();
        }
    }
    for (const auto& existing : node->routes) {
        if (existing->method == route->method)
            throw std::logic_error("route conflict: " + route->method + " " + pattern + " is already registered as " +
                                   existing->method + " " + existing->pattern);
    }
    node->routes.push_back(std::move(route));
}

// Depth-first search with backtracking. `rest` is the path after the last consumed '/';
// `at_end` means every segment is consumed.
const Route* RouteTree::walk(const Node& node, std::string_view rest, bool at_end, Walk& w) {
    if (at_end) {
        if (const Route* r = node.route_for(w.method)) return r;
        if (!node.routes.empty()) w.path_matches.push_back(&node);
        // "/files/*" also matches "/files" with an empty remainder.
        if (node.wildcard) {
            w.params.emplace_back(node.wildcard_name, std::string_view{});
            if (const Route* r = node.wildcard->route_for(w.method)) return r;
            if (!node.wildcard->routes.empty()) w.path_matches.push_back(node.wildcard.get());
            w.params.pop_back();
        }
        return nullptr;
    }
    auto slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    bool next_end = slash == std::string_view::npos;
    std::string_view next = next_end ? std::string_view{} : rest.substr(slash + 1);

    auto it = std::lower_bound(node.statics.begin(), node.statics.end(), seg,
                               [](const auto& entry, std::string_view s) { return entry.first < s; });
    if (it != node.statics.end() && it->first == seg) {
        if (const Route* r = walk(*it->second, next, next_end, w)) return r;
    }
    if (node.param && !seg.empty()) {
        w.params.emplace_back(node.param_name, seg);
        if (const Route* r = walk(*node.param, next, next_end, w)) return r;
        w.params.pop_back();
    }
    if (node.wildcard) {
        w.params.emplace_back(node.wildcard_name, rest);
        if (const Route* r = node.wildcard->route_for(w.method)) return r;
        if (!node.wildcard->routes.empty()) w.path_matches.push_back(node.wildcard.get());
        w.params.pop_back();
    }
    return nullptr;
}

void RouteTree::match(std::string_view method, std::string_view path, RouteMatch& out, RawParams& params) const {
    if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
    Walk w;
    w.method = method;
    std::string_view rest = path.empty() ? path : path.substr(1);
    const Route* found = walk(*root_, rest, rest.empty(), w);
    if (found) {
        out.kind = RouteMatch::Kind::found;
        out.route = found;
        params = std::move(w.params);
        return;
    }
    if (w.path_matches.empty()) {
        out.kind = RouteMatch::Kind::not_found;
        return;
    }
    std::vector<std::string_view> methods;
    for (const Node* node : w.path_matches) {
        for (const auto& r : node->routes) {
            methods.push_back(r->method);
            if (r->method == "GET") methods.push_back("HEAD");
        }
    }
    methods.push_back("OPTIONS");
    std::sort(methods.begin(), methods.end(), [](std::string_view a, std::string_view b) {
        int ra = method_rank(a), rb = method_rank(b);
        return ra != rb ? ra < rb : a < b;
    });
    methods.erase(std::unique(methods.begin(), methods.end()), methods.end());
    out.allow.clear();
    for (auto m : methods) {
        if (!out.allow.empty()) out.allow += ", ";
        out.allow += m;
    }
    out.kind = method == "OPTIONS" ? RouteMatch::Kind::auto_options : RouteMatch::Kind::method_not_allowed;
}

}  // namespace spur::detail
