#pragma once
// The core's write access to the routing verdict a Request carries. Only App uses it: a
// public setter would let middleware re-route a request after its body limit and route
// middleware were chosen, so "route once" would be a convention instead of a rule.

#include <spur/request.hpp>

namespace spur::detail {

struct RequestAccess {
    static App*& app(Request& req) noexcept { return req.app_; }
    static void route(Request& req, const Route* route, std::string_view pattern) noexcept {
        req.route_ = route;
        req.pattern_ = pattern;
    }
    static std::vector<std::pair<std::string_view, std::string>>& params(Request& req) noexcept { return req.params_; }
    static std::optional<boost::json::value>& json(Request& req) noexcept { return req.json_; }
    static Wire* wire(const Request& req) noexcept { return req.wire_; }
};

}  // namespace spur::detail
