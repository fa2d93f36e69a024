#pragma once
// spur::detail::RouteTree — the segment tree that maps (method, path) to a route.

#include "core/route.hpp"

#include "core/route_match.hpp"

#include <memory>
#include <string_view>
#include <utility>
#include <vector>

namespace spur::detail {

/// Raw (still percent-encoded) parameter values captured by a match, as views into the path.
using RawParams = std::vector<std::pair<std::string_view, std::string_view>>;

/// Static segments beat `:param` segments, which beat a trailing `*`; matching backtracks,
/// so "/users/me" and "/users/:id" coexist. Read-only after setup, so lookups take no lock.
class RouteTree {
public:
    RouteTree();
    ~RouteTree();
    RouteTree(RouteTree&&) noexcept;
    RouteTree& operator=(RouteTree&&) noexcept;

    /// Adds a route. Throws std::invalid_argument for a malformed pattern, std::logic_error
    /// if the same method is already registered for an equivalent pattern or two `:param`
    /// names compete for one position.
    void insert(std::shared_ptr<Route> route);

    /// Looks up `path` (no query) for `method`. On `found`, `params` holds the captures.
    /// A single trailing slash is ignored ("/users/" matches "/users").
    void match(std::string_view method, std::string_view path, RouteMatch& out, RawParams& params) const;

private:
    struct Node;
    struct Walk;
    // Depth-first search with backtracking; `rest` is the path after the last consumed '/'.
    static const Route* walk(const Node& node, std::string_view rest, bool at_end, Walk& w);
    std::unique_ptr<Node> root_;
};

}  // namespace spur::detail
