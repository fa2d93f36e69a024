#include "server/finish.hpp"

#include <spur/detail/response_access.hpp>

#include "util/describe_request.hpp"
#include "util/exception_message.hpp"
#include "util/http_date.hpp"
#include "util/net.hpp"

#include <boost/json/value.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <string>

namespace spur::detail {

BodyFraming finish_response(Response& res, unsigned version, bool head_request, bool keep_alive) {
    // The framing fields, which no preset holds (detail::PresetFields): the preset ones stay out.
    auto& h = ResponseAccess::raw(res);
    h.version(version == 10 ? 10 : 11);
    // Which framing fields the app set, in one pass comparing enums: a lookup by name per
    // field (set, find, erase) cost more than the rest of this function together.
    bool has_date = false, has_server = false, has_length = false, has_encoding = false, has_connection = false;
    for (const auto& field : h) {
        switch (field.name()) {
            case http::field::date: has_date = true; break;
            case http::field::server: has_server = true; break;
            case http::field::content_length: has_length = true; break;
            case http::field::transfer_encoding: has_encoding = true; break;
            case http::field::connection: has_connection = true; break;
            default: break;
        }
    }
    const auto put = [&h](http::field name, bool present, std::string_view value) {
        if (present) h.set(name, value); else h.insert(name, value);
    };
    BodyFraming f;
    // Content-Length, Date and Server the app did not set go into the framing's wire fields,
    // which the writer appends to the head: not into the header, an allocation and a tree
    // insert each. The finish hooks see the header as the app left it (as Node's
    // getHeader('date') does not see the Date it writes); the body's size is bytes_sent().
    const auto put_length = [&](std::uint64_t n) {
        char digits[24];
        const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
        const std::string_view text(digits, static_cast<std::size_t>(end - digits));
        if (has_length) return put(http::field::content_length, has_length, text);
        std::copy(text.begin(), text.end(), f.wire.length.begin());
        f.wire.length_size = static_cast<std::uint8_t>(text.size());
    };
    const auto date = current_http_date();
    if (has_date || date.size() != f.wire.date.size()) {
        put(http::field::date, has_date, date);
    } else {
        std::copy(date.begin(), date.end(), f.wire.date.begin());
        f.wire.date_set = true;
    }
    if (!has_server) f.wire.server = true;
    if (has_encoding) h.erase(http::field::transfer_encoding);

    const int status = res.status();
    // RFC 9110 §6.4.1: 1xx, 204 and 304 never carry content.
    const bool no_content = status < 200 || status == 204 || status == 304;
    if (no_content) {
        if (has_length) h.erase(http::field::content_length);
        res.body().clear();
        f.send_body = false;
    } else if (res.producer()) {
        f.stream = !head_request;
        if (auto n = res.stream_length()) {
            put_length(*n);
        } else if (h.version() == 11) {
            if (has_length) h.erase(http::field::content_length);
            h.insert(http::field::transfer_encoding, "chunked");
            f.chunked = true;
        } else {
            // HTTP/1.0 without a length: the end of the body is the end of the connection.
            if (has_length) h.erase(http::field::content_length);
            keep_alive = false;
        }
    } else {
        put_length(res.body().size());
    }
    if (head_request) {
        res.body().clear();
        f.send_body = false;
    }
    f.send_body = f.send_body && !head_request;
    f.keep_alive = keep_alive;
    // HTTP/1.1 is persistent unless told otherwise; HTTP/1.0 only when told so.
    if (h.version() == 11) {
        if (keep_alive) {
            if (has_connection) h.erase(http::field::connection);
        } else {
            put(http::field::connection, has_connection, "close");
        }
    } else {
        if (keep_alive) put(http::field::connection, has_connection, "keep-alive");
        else if (has_connection) h.erase(http::field::connection);
    }
    return f;
}

void add_wire_fields(http::fields& h, BodyFraming& framing) {
    auto& wire = framing.wire;
    if (wire.date_set) h.insert(http::field::date, std::string_view(wire.date.data(), wire.date.size()));
    if (wire.server) h.insert(http::field::server, "spur");
    if (wire.length_size > 0) h.insert(http::field::content_length, std::string_view(wire.length.data(), wire.length_size));
    wire = {};
}

void run_finish_hooks(const Request& req, Response& res, const LogSink& log) noexcept {
    auto& hooks = res.finish_hooks();
    for (auto it = hooks.rbegin(); it != hooks.rend(); ++it) {
        try {
            (*it)(res);
        } catch (...) {
            try {
                log(LogRecord{.level = LogLevel::error,
                              .message = fmt::format("finish hook failed in {}: {}", describe_request(req.method(), req.path()),
                                                     exception_message(std::current_exception())),
                              .request_id = req.id(),
                              .trace_id = req.trace().trace_id_hex()});
            } catch (...) {  // a failing log sink must not end the connection either
            }
        }
    }
}

}  // namespace spur::detail
