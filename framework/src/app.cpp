#include <spur/app.hpp>

#include <spur/server.hpp>

#include "app_impl.hpp"
#include "finish.hpp"
#include "request_access.hpp"
#include "url.hpp"

#include <fmt/core.h>

#include <stdexcept>

namespace spur {

namespace detail {

// One request's walk through global middleware, route middleware and the endpoint.
// Lives in App::handle's frame for as long as any Next refers to it.
class Chain {
public:
    Chain(const App::Impl& app, Request& req, Response& res)
        : app_(app), req_(req), res_(res), match_(req.route_match()) {
        if (match_.kind == RouteMatch::Kind::found) route_middleware_ = &match_.route->middleware;
    }

    Task<> run(std::size_t index) {
        if (started_ != 0 && index < started_) throw std::logic_error("next() called more than once");
        started_ = index + 1;
        const std::size_t globals = app_.global.size();
        if (index < globals) {
            co_await app_.global[index](req_, res_, Next(this, index + 1));
            co_return;
        }
        const std::size_t locals = route_middleware_ ? route_middleware_->size() : 0;
        if (index < globals + locals) {
            co_await (*route_middleware_)[index - globals](req_, res_, Next(this, index + 1));
            co_return;
        }
        co_await endpoint();
    }

    // Synchronous handlers with no middleware skip the coroutine machinery entirely.
    bool try_run_sync() {
        if (!app_.global.empty() || match_.kind != RouteMatch::Kind::found || !match_.route->middleware.empty())
            return false;
        const auto& sync = match_.route->handler.sync();
        if (!sync) return false;
        sync(req_, res_);
        return true;
    }

private:
    Task<> endpoint() {
        switch (match_.kind) {
            case RouteMatch::Kind::found: {
                const Handler& h = match_.route->handler;
                if (h.sync()) {
                    h.sync()(req_, res_);
                } else {
                    co_await h(req_, res_);
                }
                co_return;
            }
            case RouteMatch::Kind::auto_options:
                res_.status(204).set("Allow", match_.allow).end();
                co_return;
            case RouteMatch::Kind::method_not_allowed:
                throw HttpError(405, "method_not_allowed", "Method Not Allowed").with_header("Allow", match_.allow);
            case RouteMatch::Kind::bad_request:
                throw HttpError(400, "bad_request", "Malformed URL parameter");
            default:
                throw HttpError(404, "not_found", "Not Found");
        }
    }

    const App::Impl& app_;
    Request& req_;
    Response& res_;
    const RouteMatch& match_;
    const std::vector<Middleware>* route_middleware_ = nullptr;
    std::size_t started_ = 0;
};

}  // namespace detail

Task<> Handler::operator()(Request& req, Response& res) const {
    if (sync_) {
        sync_(req, res);
    } else {
        co_await async_(req, res);
    }
}

Task<> Next::operator()() const { return chain_->run(index_); }

void App::Impl::route(Request& req) const {
    auto& match = detail::RequestAccess::match(req);
    auto& params = detail::RequestAccess::params(req);
    detail::RawParams raw;
    tree.match(req.method(), req.path(), match, raw);
    if (match.kind == detail::RouteMatch::Kind::found) match.pattern = match.route->pattern;
    params.clear();
    for (auto [name, value] : raw) {
        auto decoded = detail::percent_decode(value);
        if (!decoded) {
            match.kind = detail::RouteMatch::Kind::bad_request;
            params.clear();
            return;
        }
        params.emplace_back(name, std::move(*decoded));
    }
}

void App::Impl::freeze() {
    if (frozen.load(std::memory_order_acquire)) return;
    route_body_settings = false;
    for (const auto& r : routes)
        if (r->body_limit || r->stream_body) route_body_settings = true;
    frozen.store(true, std::memory_order_release);
}

App::Impl::BodySettings App::Impl::body_settings_for(std::string_view method, std::string_view target,
                                                     std::size_t default_limit) const {
    BodySettings settings{default_limit, false};
    if (!route_body_settings) return settings;
    detail::RouteMatch match;
    detail::RawParams raw;
    tree.match(method, detail::target_path(target), match, raw);
    if (match.kind == detail::RouteMatch::Kind::found) {
        settings.limit = match.route->body_limit.value_or(default_limit);
        settings.stream = match.route->stream_body;
    }
    return settings;
}

void App::Impl::check_not_frozen() const {
    if (frozen.load(std::memory_order_relaxed))
        throw std::logic_error("spur: routes and middleware cannot change once the app is serving");
}

App::App(AppOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->options = std::move(options);
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

RouteConfig App::add_route(std::string_view method, std::string_view path, std::vector<Middleware> middleware,
                           Handler handler) {
    impl_->check_not_frozen();
    auto route = detail::make_route(method, path, std::move(middleware), std::move(handler));
    impl_->tree.insert(route);
    impl_->routes.push_back(route);
    return RouteConfig(std::move(route));
}

const LogSink& App::log() const noexcept { return impl_->options.log; }


namespace {

void apply_error_headers(Response& res, const HttpError& error) {
    for (const auto& [name, value] : error.headers()) res.set(name, value);
}

std::string describe(const Request& req) {
    std::string out = fmt::format("{} {}", req.method(), req.path());
    if (auto* id = req.locals().get<std::string>("request_id")) out += fmt::format(" (request id {})", *id);
    return out;
}

}  // namespace

void App::Impl::run_finish_hooks(Request& req, Response& res) const {
    auto& hooks = res.finish_hooks();
    for (auto it = hooks.rbegin(); it != hooks.rend(); ++it) {
        try {
            (*it)(res);
        } catch (const std::exception& e) {
            options.log(LogLevel::error, fmt::format("finish hook failed in {}: {}", describe(req), e.what()));
        } catch (...) {
            options.log(LogLevel::error, fmt::format("finish hook failed in {}", describe(req)));
        }
    }
}

Task<> App::handle(Request& req, Response& res) {
    impl_->freeze();
    if (req.route_match().kind == detail::RouteMatch::Kind::unmatched) impl_->route(req);

    // C++ forbids co_await inside a catch block, so the failure is carried out of it.
    std::optional<HttpError> failure;
    try {
        detail::Chain chain(*impl_, req, res);
        if (!chain.try_run_sync()) co_await chain.run(0);
    } catch (const HttpError& e) {
        failure.emplace(e);
    } catch (const std::exception& e) {
        impl_->options.log(LogLevel::error, fmt::format("unhandled exception in {}: {}", describe(req), e.what()));
        failure.emplace(500, "internal_error", "Internal Server Error");
    } catch (...) {
        impl_->options.log(LogLevel::error, fmt::format("unhandled non-standard exception in {}", describe(req)));
        failure.emplace(500, "internal_error", "Internal Server Error");
    }
    if (!failure) {
        impl_->run_finish_hooks(req, res);
        co_return;
    }

    bool rendered = false;
    try {
        detail::render_error(res, failure->status(), failure->code(), failure->message());
        apply_error_headers(res, *failure);
        if (impl_->error_handler) co_await impl_->error_handler(req, res, *failure);
        rendered = true;
    } catch (const std::exception& e) {
        impl_->options.log(LogLevel::error, fmt::format("error handler failed in {}: {}", describe(req), e.what()));
    } catch (...) {
        impl_->options.log(LogLevel::error, fmt::format("error handler failed in {}", describe(req)));
    }
    if (!rendered) detail::render_error(res, 500, "internal_error", "Internal Server Error");
    impl_->run_finish_hooks(req, res);
}

void App::listen(unsigned short port) {
    ServerOptions options;
    options.port = port;
    listen(options);
}

void App::listen(const ServerOptions& options) {
    Server server(*this, options);
    unsigned short port = server.start();
    impl_->options.log(LogLevel::info, fmt::format("listening on http://{}:{}", options.host, port));
    server.run();
}

}  // namespace spur
