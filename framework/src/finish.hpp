#pragma once
// The last step before bytes leave: framing headers on a finished Response (no sockets here).

#include <spur/response.hpp>

namespace spur::detail {

/// How the writer must send the body after finish_response.
struct BodyFraming {
    bool send_body = true;  ///< false for HEAD, 1xx, 204 and 304
    bool stream = false;    ///< run the response's producer
    bool chunked = false;   ///< stream with chunked encoding
    bool keep_alive = true; ///< the final decision, also written as the Connection header
};

/// Sets version, Date, Server, Connection and Content-Length/Transfer-Encoding on `res`
/// and drops the body where HTTP forbids one. `version` is the request's (10 or 11).
BodyFraming finish_response(Response& res, unsigned version, bool head_request, bool keep_alive);

/// Fills `res` with the standard JSON error body for `error`, keeping headers already set
/// except the body-related ones.
void render_error(Response& res, int status, std::string_view code, std::string_view message);

}  // namespace spur::detail
