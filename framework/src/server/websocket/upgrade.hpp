#pragma once
// The end of an HTTP connection whose ws route answered 101: the WebSocket handshake, then
// the route's handler on the connection.

#include "server/connection.hpp"

#include <spur/router.hpp>

namespace spur::detail {

/// Performs the handshake on `transport` and runs `handler` until the session ends; the
/// response's finish hooks run once the handshake is done, as 499 if it failed or `handler`
/// is null (the client cannot be upgraded: bytes of it were already read as HTTP). The
/// session counts in ServerContext::websocket_sessions while it runs, and a draining server
/// closes it at once with 1001.
Task<> serve_websocket(ServerContext& server, ConnectionState& state, Transport& transport, Request& req,
                       Response& res, const WsHandler* handler);

}  // namespace spur::detail
