#pragma once
// spur::middleware::request_id — one id per request, for logs and for the client to quote.

#include <spur/handler.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace spur::middleware {

/// Options of request_id().
struct RequestIdOptions {
    std::string header = "X-Request-Id";  ///< read from the request, written to the response
    bool trust_incoming = true;           ///< reuse a sane incoming id (e.g. set by a proxy)
    std::size_t max_length = 64;          ///< longer incoming ids are replaced (a UUID is 36)
};

/// Gives each request an id: a sane incoming one (1..max_length characters of
/// [A-Za-z0-9._:-], so 64 at most by default) or, for anything else — longer, empty, or
/// holding any other byte — a fresh random UUIDv4: the client never puts arbitrary text in
/// the logs through it. Sets it as req.id(), which error bodies, log
/// records and the access log carry, and echoes it in the response.
Middleware request_id(RequestIdOptions options = {});

/// The request's id if it has one (request_id() ran, or something asked req.id()), else "".
std::string_view request_id_of(const Request& req);

}  // namespace spur::middleware
