#include <spur/serving.hpp>

#include <spur/app.hpp>

#include "core/app_impl.hpp"
#include "core/request_access.hpp"

namespace spur {

Serving::Serving(App& app) : app_(app) { app.impl_->freeze(app); }

void Serving::start(const boost::asio::any_io_executor& executor) { app_.impl_->extensions.start(executor); }

void Serving::drain() noexcept { app_.impl_->extensions.drain(); }

void Serving::stop(std::function<void()> done) { app_.impl_->extensions.stop(std::move(done)); }

Task<> Serving::refuse(Request& req, Response& res, const HttpError& error) {
    detail::RequestAccess::app(req) = &app_;
    return app_.run(req, res, &error);
}

}  // namespace spur
