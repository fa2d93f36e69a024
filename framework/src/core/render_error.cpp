#include "core/render_error.hpp"

#include "util/describe_request.hpp"
#include "util/net.hpp"

#include <boost/json/value.hpp>

namespace spur::detail {

void render_error(const Request& req, Response& res, const HttpError& error) {
    auto& h = res.header();
    h.erase(http::field::content_type);
    h.erase(http::field::content_length);
    h.erase(http::field::content_encoding);
    h.erase(http::field::transfer_encoding);
    res.status(error.status());
    for (const auto& [name, value] : error.headers()) res.set(name, value);
    json::value body = {{"success", false}, {"error", {{"code", error.code()}, {"message", error.message()}}}};
    if (!error.details().is_null()) body.at("error").as_object()["details"] = error.details();
    // What a user quotes when reporting the error, and what finds its log lines — and, through
    // the trace id, the calls it made and the caller's own spans.
    auto& error_object = body.at("error").as_object();
    error_object["request_id"] = req.id();
    error_object["trace_id"] = req.trace().trace_id_hex();
    res.json(body);
}

std::string describe_request(const Request& req) { return describe_request(req.method(), req.path()); }

}  // namespace spur::detail
