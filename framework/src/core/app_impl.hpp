#pragma once
// App's internal state. Core only: the server and the test client use App's public API.

#include <spur/app.hpp>

#include "core/background.hpp"
#include "core/route.hpp"
#include "core/route_tree.hpp"

#include <atomic>
#include <functional>
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
    std::vector<std::function<void()>> on_freeze;  // e.g. building the OpenAPI document
    OpenApiOptions openapi;
    std::unique_ptr<const Views> views;
    std::atomic<bool> draining{false};
    detail::Background background{options.log};

    /// Fills req's route match (route, params, body settings); never throws for bad input.
    void route(Request& req) const;
    /// Rejects registration once serving has started.
    void check_not_frozen() const;
};

}  // namespace spur
