#pragma once
// App's internal state: the pipeline's (middleware, routes, error handler) and the extension
// seam. Core only: features keep their state in extensions, transports use spur::Serving.

#include <spur/app.hpp>

#include "core/route.hpp"
#include "core/route_match.hpp"
#include "core/route_tree.hpp"

#include <memory>
#include <vector>

namespace spur {

struct App::Impl {
    AppOptions options;
    std::vector<Middleware> global;
    detail::RouteTree tree;
    std::vector<std::shared_ptr<detail::Route>> routes;
    ErrorHandler error_handler;
    std::vector<ExceptionMapper> exception_mappers;
    Extensions extensions;

    /// Routes req (once): fills `match` and the request's route and params; never throws for bad input.
    void route(Request& req, detail::RouteMatch& match) const;
    /// Rejects registration once serving has started.
    void check_not_frozen() const;
    /// Ends setup; see Serving::Serving.
    void freeze(const App& app);
};

}  // namespace spur
