#include <spur/middleware/json_body.hpp>

#include <spur/detail/parse_json.hpp>

#include "middleware/collect_body.hpp"

namespace spur::middleware {


Middleware json_body(JsonBodyOptions options) {
    return [options](Request& req, Response&, Next next) -> Task<> {
        co_await detail::collect_body(req, options.limit);
        if (!req.body().empty()) {
            if (options.require_content_type && !detail::is_json_media_type(req.header("Content-Type")))
                throw HttpError(415, "unsupported_media_type", "Expected Content-Type: application/json");
            if (req.body().size() > options.limit) throw HttpError(413, "payload_too_large", "Request body too large");
            co_await detail::parse_json(req);  // throws 400 invalid_json; cached for the handler
        }
        co_await next();
    };
}

}  // namespace spur::middleware
