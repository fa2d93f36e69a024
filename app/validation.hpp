#pragma once
// Input checks shared by the handlers; each failure is HttpError(400, "validation_error").

#include <spur/http_error.hpp>

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace app {

[[noreturn]] void invalid(std::string message);

/// The request body as a JSON object, or 400.
const boost::json::object& body_object(const boost::json::value& body);
/// A required string field, or 400 naming it.
std::string_view required_string(const boost::json::object& body, std::string_view key);
/// An optional string field (absent or null -> nullopt), or 400 if another type.
std::optional<std::string_view> optional_string(const boost::json::object& body, std::string_view key);
/// Unicode code points in valid UTF-8; nullopt for invalid UTF-8.
std::optional<std::size_t> utf8_length(std::string_view s);
/// The one canonical form of an e-mail address, used to register, to log in and to key the
/// login throttle: surrounding white space trimmed, ASCII letters lower-cased. No validation.
std::string canonical_email(std::string_view email);
/// canonical_email() of a plausible e-mail address, or 400.
std::string normalized_email(std::string_view email);
/// A positive integer id from a route parameter; nullopt if it is not one (callers answer 404).
std::optional<std::uint64_t> parse_id(std::string_view text);

}  // namespace app
