#include "core/finish.hpp"

#include "util/exception_message.hpp"
#include "util/http_date.hpp"
#include "util/net.hpp"

#include <boost/json/value.hpp>
#include <fmt/core.h>

#include <string>

namespace spur::detail {

BodyFraming finish_response(Response& res, unsigned version, bool head_request, bool keep_alive) {
    auto& h = res.header();
    h.version(version == 10 ? 10 : 11);
    h.set(http::field::date, current_http_date());
    if (h.find(http::field::server) == h.end()) h.set(http::field::server, "spur");

    BodyFraming f;
    const int status = res.status();
    // RFC 9110 §6.4.1: 1xx, 204 and 304 never carry content.
    const bool no_content = status < 200 || status == 204 || status == 304;
    h.erase(http::field::transfer_encoding);
    if (no_content) {
        h.erase(http::field::content_length);
        res.body().clear();
        f.send_body = false;
    } else if (res.producer()) {
        f.stream = !head_request;
        if (auto n = res.stream_length()) {
            h.set(http::field::content_length, std::to_string(*n));
        } else if (h.version() == 11) {
            h.erase(http::field::content_length);
            h.set(http::field::transfer_encoding, "chunked");
            f.chunked = true;
        } else {
            // HTTP/1.0 without a length: the end of the body is the end of the connection.
            h.erase(http::field::content_length);
            keep_alive = false;
        }
    } else {
        h.set(http::field::content_length, std::to_string(res.body().size()));
    }
    if (head_request) {
        res.body().clear();
        f.send_body = false;
    }
    f.send_body = f.send_body && !head_request;
    f.keep_alive = keep_alive;
    // HTTP/1.1 is persistent unless told otherwise; HTTP/1.0 only when told so.
    if (h.version() == 11) {
        if (keep_alive) h.erase(http::field::connection); else h.set(http::field::connection, "close");
    } else {
        if (keep_alive) h.set(http::field::connection, "keep-alive"); else h.erase(http::field::connection);
    }
    return f;
}

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
    // What a user quotes when reporting the error, and what finds its log lines.
    body.at("error").as_object()["request_id"] = req.id();
    res.json(body);
}

std::string describe_request(const Request& req) {
    std::string out = fmt::format("{} {}", req.method().empty() ? "-" : req.method(),
                                  req.target().empty() ? "-" : req.path());
    return out;
}

void run_finish_hooks(const Request& req, Response& res, const LogSink& log) noexcept {
    auto& hooks = res.finish_hooks();
    for (auto it = hooks.rbegin(); it != hooks.rend(); ++it) {
        try {
            (*it)(res);
        } catch (...) {
            try {
                log(LogRecord{LogLevel::error,
                              fmt::format("finish hook failed in {}: {}", describe_request(req),
                                          exception_message(std::current_exception())),
                              req.id(), {}});
            } catch (...) {  // a failing log sink must not end the connection either
            }
        }
    }
}

}  // namespace spur::detail
