#pragma once
// App's internal state, shared with the server and the test client.

#include <spur/app.hpp>

#include "route.hpp"
#include "route_tree.hpp"

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

namespace spur {

struct App::Impl {
    AppOptions options;
    std::vector<Middleware> global;
    detail::RouteTree tree;
    std::vector<std::shared_ptr<detail::Route>> routes;
    ErrorHandler error_handler;
    std::atomic<bool> frozen{false};

    /// Fills req's route match and decoded params (never throws for bad input).
    void route(Request& req) const;
    /// The body limit for a request, looking the route up only if some route overrides it.
    std::size_t body_limit_for(std::string_view method, std::string_view target, std::size_t fallback) const;
    /// Rejects registration once serving has started.
    void check_not_frozen() const;

    bool has_body_limit_overrides() const;
};

}  // namespace spur
