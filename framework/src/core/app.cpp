#include <spur/app.hpp>
#include <spur/validation_error.hpp>

#include "core/app_impl.hpp"
#include "core/chain.hpp"
#include "core/finish.hpp"
#include "core/request_access.hpp"
#include "util/exception_message.hpp"
#include "util/url.hpp"

#include <boost/asio/this_coro.hpp>
#include <fmt/core.h>

#include <stdexcept>

namespace spur {

void App::Impl::route(Request& req) const {
    auto& match = detail::RequestAccess::match(req);
    auto& params = detail::RequestAccess::params(req);
    detail::RawParams raw;
    tree.match(req.method(), req.path(), match, raw);
    params.clear();
    if (match.kind != detail::RouteMatch::Kind::found) return;
    match.pattern = match.route->pattern;
    match.body_limit = match.route->body_limit;
    match.stream_body = match.route->stream_body;
    match.cancel_on_disconnect = match.route->cancel_on_disconnect;
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
}

void App::Impl::check_not_frozen() const {
    if (frozen.load(std::memory_order_relaxed))
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

App& App::views(ViewOptions options) {
    impl_->check_not_frozen();
    impl_->views = std::make_unique<const Views>(std::move(options));
    return *this;
}

const Views& App::views() const {
    if (!impl_->views) throw std::logic_error("no views: call app.views(ViewOptions{...}) first");
    return *impl_->views;
}

RouteConfig App::add_route(std::string_view method, std::string_view path, std::vector<Middleware> middleware,
                           Handler handler) {
    impl_->check_not_frozen();
    auto route = detail::make_route(method, path, std::move(middleware), std::move(handler));
    impl_->tree.insert(route);
    impl_->routes.push_back(route);
    return RouteConfig(std::move(route));
}

void App::freeze() {
    if (impl_->frozen.load(std::memory_order_acquire)) return;
    for (const auto& route : impl_->routes) {
        const auto* inputs = route->handler.inputs();
        if (!inputs || !inputs->check_path) continue;
        if (auto problem = inputs->check_path(detail::pattern_params(route->pattern)); !problem.empty())
            throw std::logic_error("spur: " + route->method + " " + route->pattern + ": " + problem);
    }
    impl_->frozen.store(true, std::memory_order_release);
    for (auto& hook : impl_->on_freeze) hook();
}

std::vector<RouteInfo> App::routes() const {
    std::vector<RouteInfo> out;
    out.reserve(impl_->routes.size());
    for (const auto& r : impl_->routes) out.push_back({r->method, r->pattern, !r->doc.hidden});
    return out;
}

const LogSink& App::log() const noexcept { return impl_->options.log; }

App& App::every(std::chrono::milliseconds interval, std::function<Task<>()> task, std::string name) {
    impl_->check_not_frozen();
    impl_->background.every(interval, std::move(task), name.empty() ? "every " + std::to_string(interval.count()) + " ms" : std::move(name));
    return *this;
}

bool App::spawn(std::function<Task<>()> task, std::string name) {
    return impl_->background.spawn(std::move(task), name.empty() ? "spawned task" : std::move(name));
}

bool App::draining() const noexcept { return impl_->draining.load(std::memory_order_relaxed); }

void App::start_background(const boost::asio::any_io_executor& executor) {
    freeze();
    impl_->background.start(executor);
}

void App::begin_drain() noexcept { impl_->draining.store(true, std::memory_order_relaxed); }

void App::stop_background(std::function<void()> done) {
    begin_drain();
    impl_->background.stop(std::move(done));
}

Task<> App::handle(Request& req, Response& res) {
    detail::RequestAccess::app(req) = this;
    res.views(impl_->views.get());
    impl_->route(req);
    return run(req, res, nullptr);
}

Task<> App::refuse(Request& req, Response& res, const HttpError& error) {
    detail::RequestAccess::app(req) = this;
    res.views(impl_->views.get());
    auto& match = detail::RequestAccess::match(req);
    match = detail::RouteMatch{};
    match.kind = detail::RouteMatch::Kind::refused;
    return run(req, res, &error);
}

// The one error boundary: whatever the chain throws — HttpError, an unexpected exception,
// or the server's refusal — is rendered here, then passed to the app's on_error.
Task<> App::run(Request& req, Response& res, const HttpError* refusal) {
    // C++ forbids co_await inside a catch block, so the failure is carried out of it.
    std::optional<HttpError> failure;
    std::string unexpected;
    try {
        detail::Chain chain(impl_->global, req, res, refusal);
        if (!chain.try_run_sync()) {
            if (auto* observer = req.handling_observer()) observer->handling_suspends();
            co_await chain.run(0);
        }
    } catch (const ValidationError& e) {
        failure.emplace(impl_->options.validation_status, e.code(), e.message());
        failure->with_details(e.details());
        for (const auto& [name, value] : e.headers()) failure->with_header(name, value);
    } catch (const HttpError& e) {
        failure.emplace(e);
    } catch (...) {
        unexpected = detail::exception_message(std::current_exception());
        failure.emplace(500, "internal_error", "Internal Server Error");
    }
    if (!failure) co_return;
    // The client left and the server cancelled the handler: nobody will read an answer, and
    // every further co_await would throw operation_aborted anyway.
    if ((co_await boost::asio::this_coro::cancellation_state).cancelled() != boost::asio::cancellation_type::none) {
        res.status(499);
        co_return;
    }
    if (!unexpected.empty())
        impl_->options.log(LogRecord{LogLevel::error,
                                     fmt::format("unhandled exception in {}: {}", detail::describe_request(req), unexpected),
                                     req.id(), {}});

    bool rendered = false;
    try {
        detail::render_error(req, res, *failure);
        if (impl_->error_handler) co_await impl_->error_handler(req, res, *failure);
        rendered = true;
    } catch (...) {
        impl_->options.log(LogRecord{LogLevel::error,
                                     fmt::format("error handler failed in {}: {}", detail::describe_request(req),
                                                 detail::exception_message(std::current_exception())),
                                     req.id(), {}});
    }
    if (!rendered) detail::render_error(req, res, HttpError(500, "internal_error", "Internal Server Error"));
}

}  // namespace spur
