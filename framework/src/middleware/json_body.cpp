#include <spur/middleware/json_body.hpp>

#include "middleware/collect_body.hpp"

namespace spur::middleware {

namespace {
bool is_json(std::string_view content_type) {
    auto t = content_type.substr(0, content_type.find(';'));
    if (detail::media_type_is(t, "application/json")) return true;
    return t.size() > 17 && detail::media_type_is(t.substr(0, 12), "application/") &&
           detail::media_type_is(t.substr(t.size() - 5), "+json");
}
}  // namespace

Middleware json_body(JsonBodyOptions options) {
    return [options](Request& req, Response&, Next next) -> Task<> {
        co_await detail::collect_body(req, options.limit);
        if (!req.body().empty()) {
            if (options.require_content_type && !is_json(req.header("Content-Type")))
                throw HttpError(415, "unsupported_media_type", "Expected Content-Type: application/json");
            if (req.body().size() > options.limit) throw HttpError(413, "payload_too_large", "Request body too large");
            (void)req.json();  // throws 400 invalid_json; cached for the handler
        }
        co_await next();
    };
}

}  // namespace spur::middleware
