#pragma once
// The HTTP/2 side of a connection: entered after TLS chose "h2" by ALPN, or when a plain
// connection opened with HTTP/2's preface (h2c by prior knowledge).

#include "server/connection.hpp"

#include <string>

namespace spur::detail {

/// Serves HTTP/2 on `transport` until the client leaves, a limit or timeout ends it (GOAWAY),
/// or the server drains (GOAWAY, then the open streams finish). `already_read` is what was read
/// before the switch, from the preface on. Never throws for network or protocol errors.
Task<> serve_h2(ServerContext& server, ConnectionState& state, Transport& transport, std::string already_read);

}  // namespace spur::detail
