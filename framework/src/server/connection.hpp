#pragma once
// One client connection: read a request, hand it to the app, write the response, repeat.

#include "util/ip.hpp"
#include "util/net.hpp"

#include <spur/app.hpp>
#include <spur/server.hpp>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <atomic>
#include <memory>

namespace spur::detail {

class TlsContext;
class Transport;
class WsSession;

/// A connection that ends itself gracefully when the server drains (HTTP/2: GOAWAY, then its
/// open streams finish). Called on the connection's executor.
class Drainable {
public:
    virtual void drain() = 0;

protected:
    ~Drainable() = default;
};

/// The socket of a connection plus the state the server's drain and shedding logic inspect.
/// Touched only on the connection's executor, except `idle` (read by the acceptor when it
/// looks for a connection to shed) and the server's bookkeeping fields.
struct ConnectionState : std::enable_shared_from_this<ConnectionState> {
    explicit ConnectionState(net::ip::tcp::socket socket) : tcp(std::move(socket)) {}
    /// The TCP stream; TLS and WebSocket layers run on top of it, so closing it ends them too.
    beast::tcp_stream tcp;
    /// Waiting for the first byte of a request: safe to close on shutdown or to shed.
    std::atomic<bool> idle{false};
    /// No request finished yet: a drain still serves its first one (see wait_for_request).
    std::atomic<bool> fresh{true};
    std::weak_ptr<WsSession> websocket;  ///< set while the connection speaks WebSocket
    std::weak_ptr<Drainable> http2;      ///< set while the connection speaks HTTP/2
    bool local = false;                  ///< accepted on a unix-domain socket (no peer address)
    unsigned home = 0;                   ///< the server's I/O thread (io_context) it runs on
    /// Bound to the connection's coroutine: emitted (terminal) when the client leaves while
    /// a cancellable request is being handled. Used on the connection's executor only.
    net::cancellation_signal cancel;
    const Request* request = nullptr;  ///< the request being handled, while it is
    bool watching = false;             ///< a wait for the peer closing is pending
    bool peer_gone = false;            ///< the peer closed while its request was handled
    // The server's, under its connections mutex: the per-client count this one is in ("" for
    // an exempt peer), and whether it was already picked to be shed.
    std::string client_key;
    bool shedding = false;
    /// Request-body bytes this connection's client holds (ServerOptions::
    /// max_buffered_body_bytes_per_ip); set at admission, null for an exempt client. Lives as
    /// long as any connection of that client.
    std::atomic<std::size_t>* client_body_bytes = nullptr;
};

/// What a connection needs from its server.
struct ServerContext {
    App& app;
    const ServerOptions& options;
    const std::atomic<bool>& stopping;
    const IpNetworks& trusted_proxies;  ///< parsed from options.trusted_proxies
    std::atomic<std::size_t>& websocket_sessions;  ///< open now, for Server::stats()
    /// Request-body buffer bytes held by every connection (ServerOptions::max_buffered_body_bytes).
    std::atomic<std::size_t>& buffered_body_bytes;
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
