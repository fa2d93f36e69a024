#pragma once
// Origins as browsers send them ("https://app.example:8443"), compared with the request's Host;
// and the origins a WebSocket upgrade accepts (shared by the ws endpoint and its middleware).

#include <spur/request.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

/// Records extra origins (normalised; "*" for any) for this request's WebSocket upgrade
/// (middleware::websocket_origins).
void set_websocket_origins(Request& req, std::shared_ptr<const std::vector<std::string>> origins);

/// Throws HttpError(403, "origin_not_allowed") unless the upgrade request has no Origin (not a
/// browser), comes from the site it was sent to, or from an origin added for it.
void check_websocket_origin(const Request& req);

}  // namespace spur::detail
