#include <spur/http_error.hpp>
#include <spur/response.hpp>

#include <stdexcept>

namespace spur {

HttpError::HttpError(int status, std::string code, std::string message)
    : std::runtime_error(message), status_(status), code_(std::move(code)), message_(std::move(message)) {
    if (status < 400 || status > 599) throw std::invalid_argument("HttpError status must be 400..599");
}

HttpError::HttpError(int status, std::string message)
    : HttpError(status, default_error_code(status), std::move(message)) {}

HttpError& HttpError::with_header(std::string name, std::string value) {
    // Checked where the error is made: a bad header found only while the error is rendered
    // left a half-rendered answer and a log blaming the error handler.
    if (!is_valid_header_name(name)) throw std::invalid_argument("HttpError::with_header: invalid header name");
    if (!is_valid_header_value(value)) throw std::invalid_argument("HttpError::with_header: CR, LF or NUL in header value");
    headers_.emplace_back(std::move(name), std::move(value));
    return *this;
}

HttpError& HttpError::with_details(boost::json::value details) {
    details_ = std::move(details);
    return *this;
}

const char* reason_phrase(int status) noexcept {
    switch (status) {
        case 100: return "Continue";
        case 101: return "Switching Protocols";
        case 200: return "OK";
        case 201: return "Created";
        case 202: return "Accepted";
        case 204: return "No Content";
        case 206: return "Partial Content";
        case 301: return "Moved Permanently";
        case 302: return "Found";
        case 303: return "See Other";
        case 304: return "Not Modified";
        case 307: return "Temporary Redirect";
        case 308: return "Permanent Redirect";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 406: return "Not Acceptable";
        case 408: return "Request Timeout";
        case 409: return "Conflict";
        case 410: return "Gone";
        case 411: return "Length Required";
        case 412: return "Precondition Failed";
        case 413: return "Payload Too Large";
        case 414: return "URI Too Long";
        case 415: return "Unsupported Media Type";
        case 416: return "Range Not Satisfiable";
        case 417: return "Expectation Failed";
        case 422: return "Unprocessable Content";
        case 429: return "Too Many Requests";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        case 505: return "HTTP Version Not Supported";
        default: return status >= 400 ? "Error" : "Unknown";
    }
}

const char* default_error_code(int status) noexcept {
    switch (status) {
        case 400: return "bad_request";
        case 401: return "unauthorized";
        case 403: return "forbidden";
        case 404: return "not_found";
        case 405: return "method_not_allowed";
        case 408: return "request_timeout";
        case 409: return "conflict";
        case 411: return "length_required";
        case 413: return "payload_too_large";
        case 414: return "uri_too_long";
        case 415: return "unsupported_media_type";
        case 417: return "expectation_failed";
        case 422: return "unprocessable_entity";
        case 429: return "too_many_requests";
        case 431: return "headers_too_large";
        case 501: return "not_implemented";
        case 503: return "service_unavailable";
        case 504: return "gateway_timeout";
        case 505: return "http_version_not_supported";
        default: return status >= 500 ? "internal_error" : "error";
    }
}

}  // namespace spur
