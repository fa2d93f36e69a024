// Where spur::Form<T> gets its form: a form middleware's result, else the buffered body.
#include <spur/contract/form.hpp>

#include "middleware/form_key.hpp"
#include "middleware/form_parse.hpp"
#include "util/media_type.hpp"

#include <spur/http_error.hpp>
#include <spur/request.hpp>

#include <memory>
#include <stdexcept>

namespace spur::detail {

const FormData& read_form(Request& req) {
    if (const FormData* parsed = form_data(req)) return *parsed;
    if (req.body_is_streamed() || req.body_pending())
        throw std::logic_error("spur::Form<T> on a stream_body() route needs middleware::multipart() or "
                               "middleware::urlencoded() before the handler");
    const std::string_view type = req.header("Content-Type");
    const std::string& body = req.body();
    std::shared_ptr<FormData> form;
    if (media_type_is(type, "application/x-www-form-urlencoded")) {
        form = parse_urlencoded(body, middleware::UrlencodedOptions{});
    } else if (media_type_is(type, "multipart/form-data")) {
        form = parse_multipart(body, type, middleware::MultipartOptions{});
    } else if (type.empty() && body.empty()) {
        form = std::make_shared<FormData>();  // nothing sent: every required field is reported
    } else {
        throw HttpError(415, "unsupported_media_type",
                        "Expected Content-Type: application/x-www-form-urlencoded or multipart/form-data");
    }
    const FormData& out = *form;
    req.locals().set(form_locals_key, std::move(form));
    return out;
}

}  // namespace spur::detail
