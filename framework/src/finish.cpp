#include "finish.hpp"

#include "http_date.hpp"
#include "net.hpp"

#include <boost/json/value.hpp>

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

void render_error(Response& res, int status, std::string_view code, std::string_view message) {
    auto& h = res.header();
    h.erase(http::field::content_type);
    h.erase(http::field::content_length);
    h.erase(http::field::content_encoding);
    h.erase(http::field::transfer_encoding);
    res.status(status);
    json::value body = {{"success", false}, {"error", {{"code", code}, {"message", message}}}};
    res.json(body);
}

}  // namespace spur::detail
