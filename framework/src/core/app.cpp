#include <spur/app.hpp>
#include <spur/validation_error.hpp>
#include <spur/detail/wire.hpp>

#include "core/app_impl.hpp"
#include "core/chain.hpp"
#include "core/render_error.hpp"
#include "core/route_match.hpp"
#include "core/request_access.hpp"
#include "util/exception_message.hpp"
#include "util/url.hpp"

#include <boost/asio/this_coro.hpp>
#include <fmt/core.h>

#include <stdexcept>

namespace spur {

void App::Impl::route(Request& req, detail::RouteMatch& match) const {
    auto& params = detail::RequestAccess::params(req);
    detail::RawParams raw;
    tree.match(req.method(), req.path(), match, raw);
    params.clear();
    if (match.kind != detail::RouteMatch::Kind::found) return;
    for (auto [name, value] : raw) {
        auto decoded = detail::percent_decode(value);
        if (!decoded) {
            match = detail::RouteMatch{};
            match.kind = detail::RouteMatch::Kind::bad_request;
            params.clear();
            return;
        }
        params.emplace_back(name, std::move(*decoded));
    }
    detail::RequestAccess::route(req, match.route, match.route->pattern);
}

void App::Impl::check_not_frozen() const {
    if (extensions.frozen())
        throw std::logic_error("spur: routes and middleware cannot change once the app is serving");
}

App::App(AppOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->options = std::move(options);
    if (impl_->options.validation_status < 400 || impl_->options.validation_status > 499)
        throw std::invalid_argument("AppOptions::validation_status must be a 4xx status");
    if (!impl_->options.log) impl_->options.log = [](LogLevel, std::string_view) {};
}

App::~App() = default;
App::App(App&&) noexcept = default;
App& App::operator=(App&&) noexcept = default;

App& App::use(Middleware middleware) {
    impl_->check_not_frozen();
    if (!middleware) throw std::invalid_argument("empty middleware");
    impl_->global.push_back(std::move(middleware));
    return *this;
}

App& App::mount(std::string_view prefix, const Router& router) {
    impl_->check_not_frozen();
    for (auto& route : router.flattened(prefix)) {
        impl_->tree.insert(route);
        impl_->routes.push_back(std::move(route));
    }
    return *this;
}

App& App::on_error(ErrorHandler handler) {
    impl_->check_not_frozen();
    impl_->error_handler = std::move(handler);
    return *this;
}

App& App::add_exception_mapper(ExceptionMapper mapper) {
    impl_->check_not_frozen();
    impl_->exception_mappers.push_back(std::move(mapper));
    return *this;
}

RouteConfig App::add_route(std::string_view method, std::string_view path, std::vector<Middleware> middleware,
                           Handler handler) {
    impl_->check_not_frozen();
    auto route = detail::make_route(method, path, std::move(middleware), std::move(handler));
    impl_->tree.insert(route);
    impl_->routes.push_back(route);
    return RouteConfig(std::move(route));
}

void App::Impl::freeze(const App& app) {
    if (extensions.frozen()) return;
    for (const auto& route : routes) {
        const auto* inputs = route->handler.inputs();
        if (!inputs || !inputs->check_path) continue;
        if (auto problem = inputs->check_path(detail::pattern_params(route->pattern)); !problem.empty())
            throw std::logic_error("spur: " + route->method + " " + route->pattern + ": " + problem);
    }
    extensions.freeze(app);
}

std::vector<RouteInfo> App::routes() const {
    std::vector<RouteInfo> out;
    out.reserve(impl_->routes.size());
    for (const auto& r : impl_->routes) out.push_back({r->method, r->pattern, !r->doc.hidden, &r->doc, r->handler.inputs()});
    return out;
}

const LogSink& App::log() const noexcept { return impl_->options.log; }

const AppOptions& App::settings() const noexcept { return impl_->options; }

Extensions& App::extensions() noexcept { return impl_->extensions; }
const Extensions& App::extensions() const noexcept { return impl_->extensions; }

Task<> App::handle(Request& req, Response& res) {
    detail::RequestAccess::app(req) = this;
    return run(req, res, nullptr);
}

// The one error boundary: whatever the chain throws — HttpError, an unexpected exception,
// or the server's refusal — is rendered here, then passed to the app's on_error.
Task<> App::run(Request& req, Response& res, const HttpError* refusal) {
    // C++ forbids co_await inside a catch block, so the failure is carried out of it.
    std::optional<HttpError> failure;
    std::exception_ptr foreign;  // neither HttpError nor ValidationError: on_exception's, or a 500
    std::string unexpected;
    detail::RouteMatch match;  // the router's verdict, read by the chain
    // Tells the connection, once, that this request may suspend: it then writes the answers
    // pipelined before it and watches for the client leaving (which cancels this coroutine).
    bool suspends = false;
    const auto may_suspend = [&] {
        if (suspends) return;
        suspends = true;
        if (auto* wire = detail::RequestAccess::wire(req)) wire->handling_suspends();
    };
    try {
        if (refusal) match.kind = detail::RouteMatch::Kind::refused;
        else impl_->route(req, match);
        detail::Chain chain(impl_->global, req, res, match, refusal);
        Task<> rest;
        switch (chain.try_run_sync(rest)) {
            case detail::Chain::SyncRun::declined:
                may_suspend();
                co_await chain.run(0);
                break;
            case detail::Chain::SyncRun::continues:
                may_suspend();
                co_await std::move(rest);
                break;
            case detail::Chain::SyncRun::done:
                break;
        }
    } catch (const ValidationError& e) {
        failure.emplace(impl_->options.validation_status, e.code(), e.message());
        failure->with_details(e.details());
        for (const auto& [name, value] : e.headers()) failure->with_header(name, value);
    } catch (const HttpError& e) {
        failure.emplace(e);
    } catch (...) {
        foreign = std::current_exception();
    }
    if (!failure && !foreign) co_return;
    // The client left and the server cancelled the handler: nobody will read an answer, and
    // every further co_await would throw operation_aborted anyway. (Nor is what the
    // cancellation threw mapped: a mapper's log line would blame the database for a client
    // that hung up.)
    if ((co_await boost::asio::this_coro::cancellation_state).cancelled() != boost::asio::cancellation_type::none) {
        res.status(499);
        co_return;
    }
    if (foreign) {
        try {
            for (const auto& map : impl_->exception_mappers) {
                if (auto answer = map(foreign, req)) {
                    failure.emplace(std::move(*answer));
                    break;
                }
            }
            if (!failure) unexpected = detail::exception_message(foreign);
        } catch (...) {
            unexpected = fmt::format("{} (and its on_exception mapper failed: {})", detail::exception_message(foreign),
                                     detail::exception_message(std::current_exception()));
        }
        if (!failure) failure.emplace(500, "internal_error", "Internal Server Error");
    }
    if (!unexpected.empty())
        impl_->options.log(LogRecord{.level = LogLevel::error,
                                     .message = fmt::format("unhandled exception in {}: {}", detail::describe_request(req), unexpected),
                                     .request_id = req.id(),
                                     .trace_id = req.trace().trace_id_hex()});

    bool rendered = false;
    // The header as the chain left it: a failing error handler's fallback 500 goes out with
    // what the middleware set (request id, CORS, security headers), not with the headers of the
    // failed rendering (a Cache-Control, a cookie, the original error's Retry-After or Allow).
    std::optional<Response::Header> chain_header;
    try {
        if (impl_->error_handler) chain_header.emplace(res.header());
        detail::render_error(req, res, *failure);
        if (impl_->error_handler) {
            // A request run without a coroutine (try_run_sync) that failed suspends only here.
            may_suspend();
            co_await impl_->error_handler(req, res, *failure);
        }
        rendered = true;
    } catch (...) {
        impl_->options.log(LogRecord{.level = LogLevel::error,
                                     .message = fmt::format("error handler failed in {}: {}", detail::describe_request(req),
                                                            detail::exception_message(std::current_exception())),
                                     .request_id = req.id(),
                                     .trace_id = req.trace().trace_id_hex()});
    }
    if (!rendered) {
        if (chain_header) res.header() = std::move(*chain_header);
        detail::render_error(req, res, HttpError(500, "internal_error", "Internal Server Error"));
    }
}

}  // namespace spur
