#pragma once
// spur::HttpError — an expected failure that becomes an HTTP status and a JSON error body.

#include <boost/json/value.hpp>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace spur {

/// Thrown from a handler or middleware to answer with `status` and
/// `{"success":false,"error":{"code":code,"message":message}}` (plus `details` if set).
/// The message is sent to the client, so it must not carry internals.
class HttpError : public std::runtime_error {
public:
    /// Builds an error; throws std::invalid_argument if status is outside 400..599.
    HttpError(int status, std::string code, std::string message);
    /// The same with the status's default code: HttpError(404, "No such text") has code
    /// "not_found" (see default_error_code). Throws std::invalid_argument as above.
    HttpError(int status, std::string message);

    /// The HTTP status code (400..599).
    int status() const noexcept { return status_; }
    /// The machine-readable error code, e.g. "not_found".
    const std::string& code() const noexcept { return code_; }
    /// The human-readable message sent to the client.
    const std::string& message() const noexcept { return message_; }

    /// Adds a header to the error response (e.g. `Allow`, `Retry-After`, `WWW-Authenticate`).
    /// Throws std::invalid_argument if the name is not an RFC 9110 token or the value holds CR,
    /// LF or NUL (as Response::set does), so a bad header fails where the error is made.
    HttpError& with_header(std::string name, std::string value);
    /// Headers added by with_header, in order.
    const std::vector<std::pair<std::string, std::string>>& headers() const noexcept { return headers_; }

    /// Sets the body's `error.details` (ValidationError puts its violations there).
    HttpError& with_details(boost::json::value details);
    /// The details, null when there are none.
    const boost::json::value& details() const noexcept { return details_; }

private:
    int status_;
    std::string code_;
    std::string message_;
    std::vector<std::pair<std::string, std::string>> headers_;
    boost::json::value details_;
};

/// The standard reason phrase for a status, or "Error" / "Unknown" when there is none.
const char* reason_phrase(int status) noexcept;

/// The default error code for a status: 404 -> "not_found", 413 -> "payload_too_large", ...
const char* default_error_code(int status) noexcept;

}  // namespace spur
