#include "server/peer_watch.hpp"

#include <spur/request.hpp>

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

namespace spur::detail {

namespace {
// Whether the peer of a readable socket has closed (or reset) it, as opposed to sending more
// bytes — a pipelined request, or a TLS record. A clean TLS close sends close_notify before
// its FIN; it counts once the FIN is there (POLLRDHUP), which is usually at the same moment.
bool peer_closed(int fd) {
    char byte;
    const auto n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
    pollfd p{fd, POLLRDHUP, 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}
}  // namespace

void PeerWatch::arm(std::shared_ptr<ConnectionState> state) {
    if (state->watching || state->peer_gone || !state->request) return;
    state->watching = true;
    auto& socket = state->tcp.socket();
    socket.async_wait(net::socket_base::wait_read, [state = std::move(state)](boost::system::error_code ec) {
        if (ec == net::error::operation_aborted) return;  // disarm()
        state->watching = false;
        if (ec || !state->request || !peer_closed(state->tcp.socket().native_handle())) return;
        state->peer_gone = true;
        if (state->request->cancels_on_disconnect()) state->cancel.emit(net::cancellation_type::terminal);
    });
}

void PeerWatch::disarm() noexcept {
    state_.request = nullptr;
    if (!state_.watching) return;
    state_.watching = false;
    boost::system::error_code ec;
    state_.tcp.socket().cancel(ec);
}

}  // namespace spur::detail
