#pragma once
// One client connection: read a request, hand it to the app, write the response, repeat.

#include "net.hpp"

#include <spur/app.hpp>
#include <spur/server.hpp>

#include <boost/beast/core/tcp_stream.hpp>

#include <atomic>
#include <memory>

namespace spur::detail {

/// The socket of a connection plus the state the server's drain logic may inspect.
/// Both are touched only on the connection's strand.
struct ConnectionState {
    explicit ConnectionState(net::ip::tcp::socket socket) : stream(std::move(socket)) {}
    beast::tcp_stream stream;
    bool idle = false;  ///< waiting for the first byte of a request: safe to close on shutdown
};

/// What a connection needs from its server.
struct ServerContext {
    App& app;
    const ServerOptions& options;
    const std::atomic<bool>& stopping;
};

/// Serves requests on `state` until the peer leaves, a limit or timeout ends it, an
/// error response closes it, or the server drains. Never throws for network or
/// protocol errors; they end the connection.
Task<> serve_connection(ServerContext& server, std::shared_ptr<ConnectionState> state);

}  // namespace spur::detail
