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
    bool route_body_settings = false;  // any route with body_limit or stream_body; set by freeze()

    /// Fills req's route match and decoded params (never throws for bad input).
    void route(Request& req) const;
    /// How the connection must read a request's body.
    struct BodySettings {
        std::size_t limit;
        bool stream = false;
    };
    /// The body settings for a request; looks the route up only if some route overrides them.
    BodySettings body_settings_for(std::string_view method, std::string_view target, std::size_t default_limit) const;
    /// Rejects registration once serving has started.
    void check_not_frozen() const;
    /// Ends setup: later registration throws, and derived lookups are computed once.
    /// Called before any I/O thread runs (Server::start) or by a single-threaded test client.
    void freeze();
    /// Runs the response's finish hooks, logging (not propagating) their failures.
    void run_finish_hooks(Request& req, Response& res) const;
};

namespace detail {
struct AppAccess {
    static App::Impl& impl(App& app) noexcept { return *app.impl_; }
};
}  // namespace detail

}  // namespace spur
