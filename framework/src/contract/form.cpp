// Where spur::Form<T> gets its form: a form middleware's result, else the buffered body.
#include <spur/contract/form.hpp>

#include "middleware/form_key.hpp"
#include "middleware/form_parse.hpp"
#include "util/media_type.hpp"

#include <spur/detail/contract_walk.hpp>
#include <spur/http_error.hpp>
#include <spur/request.hpp>

#include <limits>
#include <memory>
#include <stdexcept>

namespace spur::detail {

namespace {
[[noreturn]] void not_a_form() {
    throw HttpError(415, "unsupported_media_type",
                    "Expected Content-Type: application/x-www-form-urlencoded or multipart/form-data");
}

// What Form<T> parses with: the route's body_limit bounds the bytes, so only the counts and a
// plain field's size (fields stay in memory) are limited here.
middleware::MultipartOptions form_multipart_options() {
    middleware::MultipartOptions o;
    o.max_file_bytes = std::numeric_limits<std::size_t>::max();
    o.max_total_bytes = std::numeric_limits<std::size_t>::max();
    return o;
}
middleware::UrlencodedOptions form_urlencoded_options() {
    middleware::UrlencodedOptions o;
    o.limit = std::numeric_limits<std::size_t>::max();
    return o;
}
}  // namespace

Task<> prepare_form(Request& req) {
    if (form_data(req) || !req.body_pending()) co_return;
    const std::string_view type = req.header("Content-Type");
    if (media_type_is(type, "multipart/form-data")) {
        Task<> reading = read_multipart(req, form_multipart_options());  // named: GCC 12
        co_await std::move(reading);
    } else if (media_type_is(type, "application/x-www-form-urlencoded")) {
        co_await req.read_body();
        req.locals().set(form_locals_key, parse_urlencoded(req.body(), form_urlencoded_options()));
    } else if (type.empty()) {
        // No Content-Type: an empty body is an empty form (its required fields are reported),
        // as on a buffered route; anything in it is no form.
        const std::string_view first = co_await req.read_body_chunk();
        if (!first.empty()) not_a_form();
        req.locals().set(form_locals_key, std::make_shared<FormData>());
    }
    // Anything else stays on the wire: read_form answers 415.
}

const FormData& read_form(Request& req) {
    if (const FormData* parsed = form_data(req)) return *parsed;
    const std::string_view type = req.header("Content-Type");
    const bool urlencoded = media_type_is(type, "application/x-www-form-urlencoded");
    const bool multipart = media_type_is(type, "multipart/form-data");
    const bool on_wire = req.body_pending();
    // What the client sent decides first: another type is its mistake (415), whatever the route.
    if (!urlencoded && !multipart && !(type.empty() && !on_wire && req.body().empty())) not_a_form();
    if (on_wire) throw std::logic_error("spur::Form<T>: the form was not read before the handler (prepare_form)");
    const std::string& body = req.body();
    std::shared_ptr<FormData> form;
    if (urlencoded) form = parse_urlencoded(body, form_urlencoded_options());
    else if (multipart) form = parse_multipart(body, type, form_multipart_options());
    else form = std::make_shared<FormData>();  // nothing sent: every required field is reported
    const FormData& out = *form;
    req.locals().set(form_locals_key, std::move(form));
    return out;
}

bool safe_filename(std::string_view name) noexcept {
    if (!utf8_length(name)) return false;
    for (unsigned char c : name)
        if (c < 0x20 || c == 0x7f) return false;  // NUL, newlines, escapes: nothing a name needs
    return true;
}

}  // namespace spur::detail
