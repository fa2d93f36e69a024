#include "core/chain.hpp"

#include "core/route.hpp"
#include "util/media_type.hpp"

#include <spur/detail/contract_fwd.hpp>
#include <spur/detail/parse_json.hpp>

#include <array>
#include <exception>
#include <stdexcept>
#include <typeinfo>

namespace spur::detail {

namespace {
// GET and HEAD carry no content with defined semantics (RFC 9110 §9.3.1): their bodies are
// left on the wire unless the handler asks for one — with co_await req.read_body(), or by
// taking a typed Body<T> or Form<T> — so that `GET /healthz` with a large Content-Length
// buffers nothing (the connection drops what it can, or closes).
bool reads_body_first(const Request& req, const Inputs* inputs) noexcept {
    if (req.method() != "GET" && req.method() != "HEAD") return true;
    return inputs && (inputs->body || inputs->form);
}
}  // namespace

bool body_needs_work(const Request& req, const Inputs* inputs) noexcept {
    if (req.body_pending() && !req.body_is_streamed() && reads_body_first(req, inputs)) return true;
    return req.body().size() >= json_offload_bytes && is_json_media_type(req.header("Content-Type"));
}

Task<> ready_body(Request& req, const Inputs* inputs) {
    if (req.body_pending() && !req.body_is_streamed() && reads_body_first(req, inputs)) co_await req.read_body();
    // A large JSON body is parsed off the I/O thread now, so that the handler's req.json()
    // (or typed Body<T>) finds it parsed.
    if (req.body().size() >= json_offload_bytes && is_json_media_type(req.header("Content-Type"))) co_await parse_json(req);
}

Chain::Chain(const std::vector<Middleware>& global, Request& req, Response& res, const RouteMatch& match,
             const HttpError* refusal) noexcept
    : global_(global), req_(req), res_(res), match_(match), refusal_(refusal) {
    if (!refusal && match.kind == RouteMatch::Kind::found) route_middleware_ = &match.route->middleware;
}

namespace {
// A middleware that is a plain function (not a coroutine) may throw before it returns a task:
// the exception is handed over as a task, so that it surfaces where the caller awaits next(),
// inside the caller's try block, as it did when this layer was a coroutine of its own.
Task<> rethrow(std::exception_ptr failure) {
    std::rethrow_exception(failure);
    co_return;
}

// What next() returns when a before step answered: there is nothing left to run.
Task<> answered() { co_return; }
}  // namespace

const Middleware* Chain::layer(std::size_t index) const noexcept {
    const std::size_t globals = global_.size();
    if (index < globals) return &global_[index];
    const std::size_t locals = route_middleware_ ? route_middleware_->size() : 0;
    if (index < globals + locals) return &(*route_middleware_)[index - globals];
    return nullptr;
}

bool Chain::step(const BeforeStep& s) {
    // Answered — by this step, or by a middleware before it that still called next() — the
    // chain stops here, as it would at a coroutine middleware that does not call next().
    s.step(req_, res_);
    return !res_.ended();
}

// Not a coroutine: it hands back the middleware's (or the endpoint's) own task, so that a
// layer of the chain costs one coroutine frame rather than two, and before steps none. A
// coroutine middleware's body still starts only when the task is awaited; a before step, or a
// plain function's synchronous part, runs here, when next() is called.
Task<> Chain::run(std::size_t index) {
    if (started_ != 0 && index < started_) throw std::logic_error("next() called more than once");
    try {
        for (;; ++index) {
            started_ = index + 1;
            const Middleware* mw = layer(index);
            if (!mw) return endpoint();
            const auto* before = mw->target<BeforeStep>();
            if (!before) return (*mw)(req_, res_, Next(this, index + 1));
            if (!step(*before)) return answered();
        }
    } catch (...) {
        return rethrow(std::current_exception());
    }
}

Chain::SyncRun Chain::try_run_sync(Task<>& rest) {
    const auto& match = match_;
    if (refusal_ || match.kind != RouteMatch::Kind::found) return SyncRun::declined;
    const auto& sync = match.route->handler.sync();
    const Inputs* in = match.route->handler.inputs();
    // What endpoint() would await before the handler: reading or parsing the body, extractors.
    if (!sync || (in && in->prepare) || body_needs_work(req_, in)) return SyncRun::declined;
    // Each layer's step, found once: asking a std::function for its target compares type
    // names, and a mismatch costs a strcmp.
    struct Steps {
        const BeforeStep* before;
        const AfterStep* after;
    };
    std::array<Steps, 24> steps;  // filled up to `count`, left uninitialised past it
    std::size_t count = 0;
    for (; const Middleware* mw = layer(count); ++count) {
        if (count == steps.size()) return SyncRun::declined;  // a chain this long takes the coroutine path
        const std::type_info& type = mw->target_type();
        if (type == typeid(BeforeStep)) steps[count] = {mw->target<BeforeStep>(), nullptr};
        else if (type == typeid(AfterStep)) steps[count] = {nullptr, mw->target<AfterStep>()};
        else return SyncRun::declined;
    }
    // Down through the before steps to the handler, or to a step that answered; then back up
    // through the after steps of the layers passed on the way, innermost first.
    std::size_t reached = 0;
    bool answered = false;
    for (; reached < count; ++reached) {
        started_ = reached + 1;
        if (steps[reached].before && !step(*steps[reached].before)) {
            answered = true;
            break;
        }
    }
    if (!answered) sync(req_, res_);
    for (std::size_t i = reached; i-- > 0;) {
        if (steps[i].after && !steps[i].after->step(req_, res_)) {
            rest = finish_after(i);
            return SyncRun::continues;
        }
    }
    return SyncRun::done;
}

Task<> Chain::finish_after(std::size_t index) {
    const auto* suspending = layer(index)->target<AfterStep>();
    co_await suspending->later(req_, res_);
    for (std::size_t i = index; i-- > 0;) {
        const auto* after = layer(i)->target<AfterStep>();
        if (after && !after->step(req_, res_)) co_await after->later(req_, res_);
    }
}

Task<> Chain::endpoint() {
    if (refusal_) throw *refusal_;
    const auto& match = match_;
    switch (match.kind) {
        case RouteMatch::Kind::found: {
            // The body is read only once the request got this far: a guard that answered
            // 401 (middleware, or the handler's own extractor) never made the server read
            // (or send 100 Continue for) an upload.
            const Handler& h = match.route->handler;
            const Inputs* in = h.inputs();
            if (!(in && in->extractors_before_body)) {
                if (body_needs_work(req_, in)) co_await ready_body(req_, in);
                if (in && in->prepare) {
                    Task<> preparing = in->prepare(req_);  // named: GCC 12
                    co_await std::move(preparing);
                }
            }
            if (h.sync()) {
                h.sync()(req_, res_);
            } else {
                co_await h(req_, res_);
            }
            co_return;
        }
        case RouteMatch::Kind::auto_options:
            res_.status(204).set("Allow", match.allow).end();
            co_return;
        case RouteMatch::Kind::method_not_allowed:
            throw HttpError(405, "method_not_allowed", "Method Not Allowed").with_header("Allow", match.allow);
        case RouteMatch::Kind::bad_request:
            throw HttpError(400, "bad_request", "Malformed URL parameter");
        default:
            throw HttpError(404, "not_found", "Not Found");
    }
}

}  // namespace spur::detail

namespace spur {

Task<> Handler::operator()(Request& req, Response& res) const {
    if (sync_) {
        sync_(req, res);
    } else {
        co_await async_(req, res);
    }
}

Task<> Next::operator()() const { return chain_->run(index_); }

Task<> detail::BeforeStep::operator()(Request& req, Response& res, Next next) const {
    step(req, res);
    if (!res.ended()) co_await next();
}

Task<> detail::AfterStep::operator()(Request& req, Response& res, Next next) const {
    co_await next();
    if (!step(req, res)) co_await later(req, res);
}

Middleware after(std::function<void(Request&, Response&)> step) {
    if (!step) throw std::invalid_argument("spur::after: empty step");
    return detail::AfterStep{[step = std::move(step)](Request& req, Response& res) {
                                 step(req, res);
                                 return true;
                             },
                             nullptr};
}

Middleware before(std::function<void(Request&, Response&)> step) {
    if (!step) throw std::invalid_argument("spur::before: empty step");
    return detail::BeforeStep{std::move(step)};
}

}  // namespace spur
