#include "client/target.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>

namespace spur::client {

namespace beast = boost::beast;
using Kind = HttpClientError::Kind;

namespace {

// RFC 9110 token characters: what a method and a header name consist of.
bool is_token(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    });
}

}  // namespace

Target parse_target(const std::string& url) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) throw HttpClientError(Kind::invalid_url, "invalid URL \"" + url + "\"");
    const auto& u = *parsed;
    Target t;
    const auto scheme = u.scheme();
    if (beast::iequals(scheme, "https")) t.tls = true;
    else if (!beast::iequals(scheme, "http")) throw HttpClientError(Kind::invalid_url, "not an http(s) URL: \"" + url + "\"");
    t.host = u.host_address();
    if (t.host.empty()) throw HttpClientError(Kind::invalid_url, "no host in \"" + url + "\"");
    t.port = u.has_port() ? std::string(u.port()) : (t.tls ? "443" : "80");
    t.target = u.encoded_path().empty() ? "/" : std::string(u.encoded_path());
    if (u.has_query()) t.target += "?" + std::string(u.encoded_query());
    t.key = (t.tls ? "https://" : "http://") + t.host + ":" + t.port;
    return t;
}

// A field value may not hold CR or LF (they would end the field and start another, or the
// request), NUL, or any other control character but tab (RFC 9110 section 5.5).
bool is_field_value(std::string_view s) {
    return std::none_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return (u < 0x20 && u != '\t') || u == 0x7f;
    });
}

void check_sendable(std::string_view method, const ClientHeaders& headers, std::string_view user_agent) {
    if (!is_token(method)) throw HttpClientError(Kind::invalid_request, "the method is not an HTTP token");
    if (!is_field_value(user_agent))
        throw HttpClientError(Kind::invalid_request, "HttpClientOptions::user_agent holds a control character");
    for (const auto& [name, value] : headers) {
        // The name only: a value may be a credential, which an error message must not carry.
        if (!is_token(name)) throw HttpClientError(Kind::invalid_request, "a header name is not an HTTP token");
        if (!is_field_value(value))
            throw HttpClientError(Kind::invalid_request, "the value of header " + name + " holds CR, LF or another control character");
    }
}

bool idempotent(std::string_view method) {
    return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" || method == "DELETE" || method == "TRACE";
}

bool redirect_status(int s) { return s == 301 || s == 302 || s == 303 || s == 307 || s == 308; }

}  // namespace spur::client
