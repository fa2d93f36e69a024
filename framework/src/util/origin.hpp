#pragma once
// Origins as browsers send them ("https://app.example:8443"), compared with the request's Host.

#include <optional>
#include <string>
#include <string_view>

namespace spur::detail {

/// The lower-cased "host[:port]" of a serialized origin; nullopt for "null" or anything that is
/// not "scheme://host[:port]" (a path, user info or empty host).
std::optional<std::string> origin_authority(std::string_view origin);

/// Whether `origin` names the host the request was sent to (its Host header), port included.
/// The scheme is not compared: behind a TLS-terminating proxy the server cannot know it.
bool same_origin(std::string_view origin, std::string_view host);

/// The origin normalised for comparison (scheme and host lower-cased), or nullopt if it is not
/// one. Used to check configured lists at start-up.
std::optional<std::string> normalize_origin(std::string_view origin);

}  // namespace spur::detail
