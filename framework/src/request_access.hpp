#pragma once
// Library-internal access to the routing state a Request carries.

#include <spur/request.hpp>

namespace spur::detail {

struct RequestAccess {
    static RouteMatch& match(Request& req) noexcept { return req.match_; }
    static std::vector<std::pair<std::string_view, std::string>>& params(Request& req) noexcept { return req.params_; }
    static void set_body_source(Request& req, BodySource* source) noexcept { req.body_source_ = source; }
};

}  // namespace spur::detail
