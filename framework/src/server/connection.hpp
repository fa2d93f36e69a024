#pragma once
// One client connection: read a request, hand it to the app, write the response, repeat.

#include "util/ip.hpp"
#include "util/net.hpp"

#include <spur/app.hpp>
#include <spur/server.hpp>

#include <boost/beast/core/tcp_stream.hpp>

#include <atomic>
#include <memory>

namespace spur::detail {

class TlsContext;
class Transport;
class WsSession;

/// The socket of a connection plus the state the server's drain logic may inspect.
/// All of it is touched only on the connection's executor.
struct ConnectionState {
    explicit ConnectionState(net::ip::tcp::socket socket) : tcp(std::move(socket)) {}
    /// The TCP stream; TLS and WebSocket layers run on top of it, so closing it ends them too.
    beast::tcp_stream tcp;
    bool idle = false;  ///< waiting for the first byte of a request: safe to close on shutdown
    std::weak_ptr<WsSession> websocket;  ///< set while the connection speaks WebSocket
};

/// What a connection needs from its server.
struct ServerContext {
    App& app;
    const ServerOptions& options;
    const std::atomic<bool>& stopping;
    const IpNetworks& trusted_proxies;  ///< parsed from options.trusted_proxies
};

/// Serves requests on `transport` until the peer leaves, a limit or timeout ends it, an
/// error response closes it, or the server drains. Never throws for network or protocol
/// errors; they end the connection.
Task<> serve(ServerContext& server, ConnectionState& state, Transport& transport);

/// serve() over plain TCP (transport_tcp.cpp).
Task<> serve_plain(ServerContext& server, std::shared_ptr<ConnectionState> state);
/// serve() over TLS, after a handshake bounded by the TLS handshake timeout (transport_tls.cpp).
Task<> serve_tls(ServerContext& server, std::shared_ptr<ConnectionState> state, TlsContext& tls);

}  // namespace spur::detail
