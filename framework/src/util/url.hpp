#pragma once
// Percent-decoding and query-string parsing.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spur::detail {

/// Decodes %XX escapes (and '+' as space when plus_is_space). nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space = false);

/// Like percent_decode, but keeps malformed escapes verbatim instead of failing.
std::string percent_decode_lenient(std::string_view in, bool plus_is_space);

/// Splits "a=1&b=2&a=3" into decoded pairs, in order; a key without '=' gets "".
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);

/// Percent-encodes everything but RFC 3986 unreserved characters.
std::string percent_encode(std::string_view in);

}  // namespace spur::detail

namespace spur::detail {
/// The path part of a request target ("/a?b" -> "/a"; "http://h/a" -> "/a"; "" -> "/").
std::string_view target_path(std::string_view target) noexcept;
/// The query part without '?', or "".
std::string_view target_query(std::string_view target) noexcept;
}  // namespace spur::detail
