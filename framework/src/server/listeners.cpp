#include "server/listeners.hpp"

#include "server/systemd.hpp"

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <stdexcept>
#include <system_error>

namespace spur::detail {

namespace {
// What differs between the families — peer addresses, TCP options — the server does not ask of it.
void adopt(net::ip::tcp::acceptor& acceptor, int family, int fd) {
    acceptor.assign(family == AF_INET6 ? net::ip::tcp::v6() : net::ip::tcp::v4(), fd);
}

// Binds a unix socket at `path` with `mode`, replacing a stale socket file left by a
// process that did not shut down; anything else at the path is left alone (bind then fails).
int bind_unix(net::any_io_executor executor, const std::string& path, unsigned mode) {
    struct stat st {};
    if (lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
    net::local::stream_protocol::acceptor unix_acceptor(executor);
    net::local::stream_protocol::endpoint endpoint(path);
    unix_acceptor.open(endpoint.protocol());
    unix_acceptor.bind(endpoint);
    if (::chmod(path.c_str(), static_cast<mode_t>(mode)) != 0) {
        ::unlink(path.c_str());
        throw std::system_error(errno, std::generic_category(), "chmod " + path);
    }
    unix_acceptor.listen(net::socket_base::max_listen_connections);
    return unix_acceptor.release();
}

}  // namespace

Listener& Listeners::add(bool tls) {
    all_.push_back(std::make_unique<Listener>(strand_));
    all_.back()->tls = tls;
    return *all_.back();
}

bool Listeners::take_inherited(bool tls) {
    auto inherited = take_inherited_sockets();
    for (const auto& socket : inherited) {
        const bool is_tls = socket.name == "https" || socket.name == "tls";
        if (is_tls && !tls) {
            ::close(socket.fd);
            throw std::invalid_argument("spur: systemd passed a socket named '" + socket.name + "' but no tls settings");
        }
        auto& l = add(is_tls);
        l.unix_socket = socket.family == AF_UNIX;
        adopt(l.acceptor, socket.family, socket.fd);
    }
    return !inherited.empty();
}

void Listeners::bind(const ServerOptions& options, bool tls) {
    std::string host = options.host == "localhost" ? "127.0.0.1" : options.host;
    auto bind_tcp = [&](bool is_tls, unsigned short port) {
        auto& acceptor = add(is_tls).acceptor;
        net::ip::tcp::endpoint endpoint(net::ip::make_address(host), port);
        acceptor.open(endpoint.protocol());
        acceptor.set_option(net::socket_base::reuse_address(true));
        if (endpoint.address().is_v6()) acceptor.set_option(net::ip::v6_only(false));
        acceptor.bind(endpoint);
        acceptor.listen(net::socket_base::max_listen_connections);
    };
    if (options.plain) bind_tcp(false, options.port);
    if (tls) bind_tcp(true, options.tls->port);
    if (!options.unix_path.empty()) {
        auto& l = add(false);
        l.unix_socket = true;
        adopt(l.acceptor, AF_UNIX, bind_unix(strand_, options.unix_path, options.unix_mode));
        l.created_path = options.unix_path;
    }
}

unsigned short Listeners::first_port(bool tls) const {
    for (const auto& l : all_) {
        if (l->tls != tls || l->unix_socket) continue;
        boost::system::error_code ec;
        auto endpoint = l->acceptor.local_endpoint(ec);
        if (!ec) return endpoint.port();
    }
    return 0;
}

std::vector<std::string> Listeners::urls() const {
    std::vector<std::string> out;
    for (const auto& l : all_) {
        if (l->unix_socket) {
            sockaddr_un address{};
            socklen_t length = sizeof address;
            if (::getsockname(l->acceptor.native_handle(), reinterpret_cast<sockaddr*>(&address), &length) != 0) continue;
            // A path of the whole 108 bytes has no NUL, and the kernel then reports one byte more
            // than the structure holds: never read past it.
            const std::size_t reported = std::min<std::size_t>(length, sizeof address);
            const std::size_t path_length = reported > offsetof(sockaddr_un, sun_path) ? reported - offsetof(sockaddr_un, sun_path) : 0;
            std::string path(address.sun_path, path_length);
            if (!path.empty() && path[0] == '\0') path[0] = '@';  // an abstract socket, as ss(8) writes it
            else path.resize(std::min(path.size(), path.find('\0')));  // up to its terminating NUL, if any
            out.push_back("unix:" + path);
            continue;
        }
        boost::system::error_code ec;
        const auto endpoint = l->acceptor.local_endpoint(ec);
        if (ec) continue;
        const auto address = endpoint.address();
        const auto host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
        out.push_back((l->tls ? "https://" : "http://") + host + ":" + std::to_string(endpoint.port()));
    }
    return out;
}

void Listeners::close() noexcept {
    boost::system::error_code ec;
    for (auto& l : all_) l->acceptor.close(ec);
    remove_files();
}

void Listeners::remove_files() noexcept {
    for (auto& l : all_) {
        if (!l->created_path.empty()) ::unlink(l->created_path.c_str());
        l->created_path.clear();
    }
}

}  // namespace spur::detail
