#pragma once
// The calls spur-app makes to the AI service (services/ai), and how their failures read to
// spur-app's own clients.

#include "services.hpp"

#include <spur/http_client.hpp>
#include <spur/http_error.hpp>
#include <spur/request.hpp>

#include <string>

namespace app::ai {

/// Starts a summary of `content` (`sentences` long) at the AI service and returns once its
/// stream of events has begun, within AI_TIMEOUT and whatever budget `req` has left, carrying
/// req's trace context and request id. Throws spur::HttpError: 503 ai_unavailable (no
/// connection, after retries), 504 ai_timeout (the deadline passed), 502 ai_error (the service
/// failed or answered anything but an event stream). A cancelled call rethrows as it is.
spur::Task<spur::ClientStream> open_summary(Services& s, const spur::Request& req, std::string content,
                                            unsigned sentences);

/// The HttpError a failed AI call is answered with (see open_summary).
spur::HttpError ai_failure(const spur::HttpClientError& e);

}  // namespace app::ai
