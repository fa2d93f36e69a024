#pragma once
// Which Origins a WebSocket upgrade accepts: its own site's, plus those middleware::
// websocket_origins() added for this request's route.

#include <spur/request.hpp>

#include <memory>
#include <string>
#include <vector>

namespace spur::detail {

/// Records the extra origins (normalised; "*" for any) for the ws endpoint to check.
void set_websocket_origins(Request& req, std::shared_ptr<const std::vector<std::string>> origins);

/// Throws HttpError(403, "origin_not_allowed") unless the upgrade request has no Origin (not a
/// browser), comes from the site it was sent to, or from an origin added for it.
void check_websocket_origin(const Request& req);

}  // namespace spur::detail
