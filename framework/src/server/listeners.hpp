#pragma once
// The server's listening sockets: the ones systemd passes (socket activation), or its own TCP,
// TLS and unix-domain ones.

#include "util/net.hpp"

#include <spur/server.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>

#include <memory>
#include <string>
#include <vector>

namespace spur::detail {

/// One listening socket: TCP, or a unix-domain one adopted into the same type (Asio's
/// reactive accept, read, write and wait are the same system calls for both families, so the
/// connection code stays compiled once).
struct Listener {
    explicit Listener(net::strand<net::io_context::executor_type>& strand) : acceptor(strand) {}
    net::ip::tcp::acceptor acceptor;
    bool tls = false;
    bool unix_socket = false;
    std::string created_path;  // a unix socket file this server made, removed on shutdown
};

class Listeners {
public:
    explicit Listeners(net::strand<net::io_context::executor_type>& strand) noexcept : strand_(strand) {}
    ~Listeners() { remove_files(); }

    /// Takes the sockets systemd passed; false when there are none. A socket named "https" or
    /// "tls" is a TLS listener: std::invalid_argument without `tls` settings.
    bool take_inherited(bool tls);
    /// Binds what `options` ask for: plain TCP, TLS (when `tls`), a unix socket. Throws
    /// boost::system::system_error when a bind fails.
    void bind(const ServerOptions& options, bool tls);
    /// The port of the first TCP listener of the kind (plain or TLS), 0 if none.
    unsigned short first_port(bool tls) const;
    /// Where each listener listens, read from its socket: `http://ADDRESS:PORT`,
    /// `https://ADDRESS:PORT` (an IPv6 address in brackets) or `unix:PATH`.
    std::vector<std::string> urls() const;
    /// Closes every listener (no new connections) and removes the unix socket files made here.
    void close() noexcept;

    auto begin() { return all_.begin(); }
    auto end() { return all_.end(); }

private:
    Listener& add(bool tls);
    void remove_files() noexcept;

    net::strand<net::io_context::executor_type>& strand_;
    std::vector<std::unique_ptr<Listener>> all_;
};

}  // namespace spur::detail
