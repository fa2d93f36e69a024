#pragma once
// The one error renderer every error response passes (App::run's error boundary).

#include <spur/http_error.hpp>
#include <spur/request.hpp>
#include <spur/response.hpp>

#include <string>

namespace spur::detail {

/// The one error renderer: fills `res` with `error`'s status, headers and the standard JSON
/// body (code, message, details, request_id, trace_id), keeping headers already set except the
/// body-related ones.
void render_error(const Request& req, Response& res, const HttpError& error);

/// "GET /path" for log lines about one request.
std::string describe_request(const Request& req);

}  // namespace spur::detail
