#include "server/http2/request_head.hpp"

#include <boost/beast/core/string.hpp>

namespace spur::detail {

void RequestHead::add(std::string_view name, std::string_view value) {
    decoded_ += name.size() + value.size();
    const bool pseudo = !name.empty() && name.front() == ':';
    // Counted as the HTTP/1.1 header block would be ("name: value\r\n"), so one limit means the
    // same on both protocols; HPACK's compression does not buy a client a larger header. :path
    // is the request line's, bounded on its own.
    if (name != ":path") bytes_ += name.size() + value.size() + 4;
    // The pseudo-fields are HTTP/1.1's request line, except :authority, its Host; a browser
    // sends each cookie as a field of its own (RFC 9113 §8.2.3), joined they are one.
    if ((!pseudo || name == ":authority") && !(name == "cookie" && !cookie_.empty())) ++fields_;
    if (rejection_) return;
    if (name == ":path") {
        if (value.size() > options_.max_request_line) rejection_ = {414, "uri_too_long", "Request line too long"};
        else path_.assign(value);
        return;
    }
    if (bytes_ > options_.max_header_bytes) {
        rejection_ = {431, "headers_too_large", "Request header fields too large"};
        return;
    }
    if (fields_ > options_.max_header_fields) {
        rejection_ = {431, "headers_too_large", "Too many request header fields"};
        return;
    }
    if (pseudo) {
        if (name == ":method") method_.assign(value);
        else if (name == ":authority") authority_.assign(value);
        return;  // :scheme (and :protocol, refused by nghttp2 unless enabled) carry nothing spur uses
    }
    if (name == "cookie") {  // split into several fields by HPACK; the app expects one
        if (!cookie_.empty()) cookie_ += "; ";
        cookie_.append(value);
        return;
    }
    if (name == "host") host_.assign(value);
    if (name == "expect" && beast::iequals(value, "100-continue")) expect_continue_ = true;
    message_.insert(name, value);
}

Request::Message RequestHead::finish(Rejection& rejection) {
    message_.version(20);
    message_.method_string(method_);
    if (!path_.empty()) message_.target(path_);
    if (host_.empty() && !authority_.empty()) message_.insert(http::field::host, authority_);
    if (!cookie_.empty()) message_.insert(http::field::cookie, cookie_);
    rejection = rejection_;
    if (!rejection) {
        // RFC 9113 §8.3.1: a Host that names another authority than :authority is malformed.
        if (!host_.empty() && !authority_.empty() && !beast::iequals(host_, authority_))
            rejection = {400, "bad_request", "Host and :authority differ"};
        else if (message_.method() == http::verb::connect) rejection = {501, "not_implemented", "CONNECT is not supported"};
        else if (!(path_.starts_with('/') || (path_ == "*" && message_.method() == http::verb::options)))
            rejection = {400, "bad_request", "Malformed request target"};
    }
    return std::move(message_);
}

}  // namespace spur::detail
