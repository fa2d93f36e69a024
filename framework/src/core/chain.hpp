#pragma once
// spur::detail::Chain — one request's walk through global middleware, route middleware and
// the endpoint (the route's handler, or the router's 404/405/OPTIONS answer).

#include <spur/handler.hpp>

#include "core/route_match.hpp"

#include <cstddef>
#include <vector>

namespace spur::detail {

/// Lives in App's frame for as long as any Next refers to it.
class Chain {
public:
    /// `refusal`, when set, replaces routing: the endpoint throws it after the global
    /// middleware (route middleware never run for a refused request).
    Chain(const std::vector<Middleware>& global, Request& req, Response& res, const RouteMatch& match,
          const HttpError* refusal) noexcept;

    /// Runs middleware `index` and, through its Next, everything after it. Throws
    /// std::logic_error if a middleware calls next() twice.
    Task<> run(std::size_t index);
    enum class SyncRun {
        declined,   // a layer or the endpoint needs a coroutine: run(0) instead
        done,       // the request ran to its end here
        continues,  // it ran up to an after step that suspends: await `rest`
    };
    /// Runs a synchronous handler straight away, between the middleware's steps when every
    /// layer is a before or an after step (no coroutine frame).
    SyncRun try_run_sync(Task<>& rest);

private:
    Task<> endpoint();
    // Layer `index` of global then route middleware; null past the last.
    const Middleware* layer(std::size_t index) const noexcept;
    // Runs a before step; false if it answered, which ends the chain.
    bool step(const BeforeStep& s);
    // The suspending part of layer `index`'s after step, then the after steps outside it.
    Task<> finish_after(std::size_t index);

    const std::vector<Middleware>& global_;
    Request& req_;
    Response& res_;
    const RouteMatch& match_;
    const HttpError* refusal_;
    const std::vector<Middleware>* route_middleware_ = nullptr;
    std::size_t started_ = 0;
};

}  // namespace spur::detail
