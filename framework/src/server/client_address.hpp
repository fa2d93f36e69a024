#pragma once
// Who sent a request when the peer may be a trusted reverse proxy: X-Forwarded-For,
// Forwarded (RFC 7239) and X-Forwarded-Proto, believed only from trusted peers.

#include "util/ip.hpp"
#include "util/net.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <string>

#include <spur/request.hpp>
#include <spur/server.hpp>

namespace spur::detail {

/// Sets req's client (Request::ip(), protocol(), secure()). From a peer outside `trusted`
/// the forwarding headers are ignored: the client is the peer and `tls` says whether the
/// connection is encrypted. From a trusted peer, the client is the right-most forwarded
/// address that is not itself trusted (every hop right of it was appended by a proxy we
/// trust; everything left of it the client could have written), and the scheme is the one
/// the proxy reports. Only `header` is read (with X-Forwarded-Proto for X-Forwarded-For):
/// a proxy rewrites or appends to its own header and passes the other through untouched.
/// Allocates only when the peer is trusted.
void resolve_client(Request& req, const IpNetworks& trusted, ForwardedHeader header, bool tls);

/// The peer of `socket` as logs, limits and trusted-proxy lists name it: a dual-stack
/// listener sees IPv4 clients as ::ffff:a.b.c.d, which they call a.b.c.d. "" if unknown.
std::string peer_address(const net::ip::tcp::socket& socket);

}  // namespace spur::detail
