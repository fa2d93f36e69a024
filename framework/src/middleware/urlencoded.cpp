#include <spur/middleware/urlencoded.hpp>

#include "middleware/collect_body.hpp"
#include "middleware/form_key.hpp"
#include "middleware/form_parse.hpp"
#include "util/url.hpp"

#include <algorithm>
#include <memory>

namespace spur::detail {

std::shared_ptr<FormData> parse_urlencoded(std::string_view body, const middleware::UrlencodedOptions& options) {
    if (body.size() > options.limit) throw HttpError(413, "payload_too_large", "Request body too large");
    if (static_cast<std::size_t>(std::count(body.begin(), body.end(), '&')) >= options.max_fields)
        throw HttpError(413, "payload_too_large", "Too many form fields");
    auto form = std::make_shared<FormData>();
    form->fields = parse_query(body);
    return form;
}

}  // namespace spur::detail

namespace spur::middleware {

Middleware urlencoded(UrlencodedOptions options) {
    return [options](Request& req, Response&, Next next) -> Task<> {
        if (!detail::media_type_is(req.header("Content-Type"), "application/x-www-form-urlencoded")) {
            co_await next();
            co_return;
        }
        co_await detail::collect_body(req, options.limit);
        req.locals().set(detail::form_locals_key, detail::parse_urlencoded(req.body(), options));
        co_await next();
    };
}

}  // namespace spur::middleware
