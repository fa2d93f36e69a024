#pragma once
// spur handler, middleware and error-handler types, and Next — the rest of the chain.

#include <spur/http_error.hpp>
#include <spur/request.hpp>
#include <spur/response.hpp>
#include <spur/task.hpp>

#include <concepts>
#include <cstddef>
#include <functional>
#include <type_traits>
#include <utility>

namespace spur {

namespace detail {
class Chain;
struct Inputs;
template <class F>
struct TypedAdapter;  // <spur/contract/contract.hpp>

// A handler with typed inputs: (Request&, Response&, Body<T>/Query<T>/Path<T>...).
template <class F>
struct TypedCall : std::false_type {};
template <class C, class R, class... Extra>
struct TypedCall<R (C::*)(Request&, Response&, Extra...) const> : std::bool_constant<(sizeof...(Extra) > 0)> {};
template <class C, class R, class... Extra>
struct TypedCall<R (C::*)(Request&, Response&, Extra...)> : std::bool_constant<(sizeof...(Extra) > 0)> {};
template <class F>
concept typed_handler = requires { &F::operator(); } && TypedCall<decltype(&F::operator())>::value;
}  // namespace detail

/// A route handler: `void(Request&, Response&)` or `Task<>(Request&, Response&)`.
/// Synchronous handlers are called directly, without a coroutine frame.
class Handler {
public:
    using Sync = std::function<void(Request&, Response&)>;
    using Async = std::function<Task<>(Request&, Response&)>;

    Handler() = default;
    template <class F>
        requires(!std::same_as<std::remove_cvref_t<F>, Handler> && std::invocable<F&, Request&, Response&>)
    Handler(F f) {  // NOLINT(google-explicit-constructor): lambdas convert implicitly, as in Express
        using R = std::invoke_result_t<F&, Request&, Response&>;
        if constexpr (std::is_same_v<R, Task<>>) {
            async_ = std::move(f);
        } else {
            static_assert(std::is_void_v<R>, "a spur handler returns void or spur::Task<>");
            sync_ = std::move(f);
        }
    }

    /// A handler taking typed inputs after the request and response — spur::Body<T>,
    /// spur::Query<T>, spur::Path<T> (include <spur/contract/contract.hpp>): they are read and
    /// validated before it runs, and the OpenAPI document describes them.
    template <class F>
        requires(detail::typed_handler<std::remove_cvref_t<F>>)
    Handler(F f) {  // NOLINT(google-explicit-constructor)
        inputs_ = detail::TypedAdapter<std::remove_cvref_t<F>>::adapt(std::move(f), sync_, async_);
    }

    /// Whether a callable is held.
    explicit operator bool() const noexcept { return sync_ || async_; }
    /// The synchronous callable, empty for a coroutine handler.
    const Sync& sync() const noexcept { return sync_; }
    /// Runs the handler whichever kind it is.
    Task<> operator()(Request& req, Response& res) const;

    /// What a typed handler reads from the request, for the OpenAPI document; null if untyped.
    const detail::Inputs* inputs() const noexcept { return inputs_; }

private:
    Sync sync_;
    Async async_;
    const detail::Inputs* inputs_ = nullptr;
};

/// Continues the middleware chain: `co_await next();` runs everything after the
/// current middleware (and the handler) and returns when they are done.
class Next {
public:
    /// Runs the rest of the chain when the returned task is awaited: `co_await next();`.
    /// Calling it a second time throws std::logic_error, even if the first task was dropped
    /// unawaited. A next middleware written as a plain function (not a coroutine) runs its
    /// synchronous part at the call; what it throws there comes out of the co_await.
    Task<> operator()() const;

private:
    friend class detail::Chain;
    Next(detail::Chain* chain, std::size_t index) noexcept : chain_(chain), index_(index) {}
    detail::Chain* chain_;
    std::size_t index_;
};

/// Middleware: answer and return to short-circuit, or `co_await next()` and post-process.
using Middleware = std::function<Task<>(Request&, Response&, Next)>;

namespace detail {
/// What spur::before() makes. The chain finds it in a Middleware and calls `step` in place;
/// called as a Middleware, it does the same in a coroutine.
struct BeforeStep {
    std::function<void(Request&, Response&)> step;
    Task<> operator()(Request& req, Response& res, Next next) const;
};
/// What spur::after() makes: `step` runs in place once the rest of the chain has returned
/// without throwing. A step that needs to suspend (a large body compressed off the I/O thread)
/// returns false, and the chain then awaits `later`, which does the whole job instead.
struct AfterStep {
    std::function<bool(Request&, Response&)> step;
    std::function<Task<>(Request&, Response&)> later;  // may be empty if `step` never returns false
    Task<> operator()(Request& req, Response& res, Next next) const;
};
}  // namespace detail

/// Middleware that only works before the rest of the chain — sets headers, records a start
/// time or a finish hook, refuses with an HttpError — run in place, without a coroutine frame
/// of its own (a third of a small middleware's cost):
///
///     app.use(spur::before([](spur::Request&, spur::Response& res) { res.set("X-Frame-Options", "DENY"); }));
///
/// The chain goes on after `step` unless the response is answered (send, json, end…) when it
/// returns — by the step, or earlier by a middleware that still called next(): then the rest
/// of the chain is skipped, as after a middleware that does not call next(). A step that only
/// sets a status does not stop it (the handler's answer goes out with that status); throw an
/// HttpError to refuse. When every middleware of a request is a
/// `before` step and its handler is synchronous, the whole request runs without a coroutine.
/// Throws std::invalid_argument if `step` is empty.
Middleware before(std::function<void(Request&, Response&)> step);

/// Middleware that only works after the rest of the chain has answered — rewrites the body,
/// adds a header that depends on the answer — run in place, without a coroutine frame:
///
///     app.use(spur::after([](spur::Request&, spur::Response& res) {
///         if (res.get("Cache-Control").empty()) res.set("Cache-Control", "no-store");
///     }));
///
/// `step` runs once the later middleware and the handler have returned, also when one of them
/// answered without calling next(); it does not run when they threw — a thrown HttpError, the
/// router's 404/405 — because the error boundary renders those after the chain unwound, as
/// past a coroutine middleware whose `co_await next()` threw. A step that throws replaces the
/// answer with that error. A chain of before and after steps around a synchronous handler
/// runs without a coroutine.
/// Throws std::invalid_argument if `step` is empty.
Middleware after(std::function<void(Request&, Response&)> step);

/// Renders an error (HttpError thrown, 404/405 from the router, or an unexpected
/// exception turned into a 500) into the response.
using ErrorHandler = std::function<Task<>(Request&, Response&, const HttpError&)>;

}  // namespace spur
