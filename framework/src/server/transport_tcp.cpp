// Plain TCP: the transport, and the entry point for a plain connection.
#include "server/connection.hpp"
#include "server/transport.hpp"
#include "server/websocket/stream_session.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>

#include <cerrno>

namespace spur::detail {

namespace {

constexpr std::size_t linger_bytes = 256 * 1024;

class TcpTransport final : public Transport {
public:
    explicit TcpTransport(beast::tcp_stream& stream) noexcept : Transport(stream, false), stream_(stream) {}

    // Asio's own awaitable, returned rather than awaited in a coroutine of ours: one frame
    // less per read, and one less alive for every idle connection.
    Task<std::size_t> read_some(net::mutable_buffer buffer, boost::system::error_code& ec) override {
        return stream_.async_read_some(buffer, net::redirect_error(net::use_awaitable, ec));
    }

    // A response almost always fits the socket's send buffer: Transport::write sends it with
    // write_now(), in one sendmsg, without an asynchronous operation, its deadline timer and
    // the resumption (a third of spur's instructions per request). Only what the socket does
    // not take comes here.
    Task<std::size_t> write_some(std::span<const net::const_buffer> buffers, boost::system::error_code& ec) override {
        return stream_.async_write_some(buffers, net::redirect_error(net::use_awaitable, ec));
    }

    std::size_t write_now(std::span<const net::const_buffer> buffers, boost::system::error_code& ec) override {
        std::array<iovec, 8> iov;
        if (buffers.size() > iov.size()) return 0;  // the caller writes them asynchronously
        std::size_t count = 0;
        for (const auto& b : buffers) {
            if (b.size() == 0) continue;
            iov[count++] = {const_cast<void*>(b.data()), b.size()};
        }
        if (count == 0) return 0;
        msghdr message{};
        message.msg_iov = iov.data();
        message.msg_iovlen = count;
        for (;;) {
            const auto n = ::sendmsg(stream_.socket().native_handle(), &message, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n >= 0) return static_cast<std::size_t>(n);
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) ec.assign(errno, boost::system::system_category());
            return 0;
        }
    }

    Task<> close_gracefully(std::chrono::milliseconds linger) override {
        boost::system::error_code ec;
        stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
        if (ec) co_return;
        stream_.expires_after(linger);
        char scratch[4096];
        std::size_t total = 0;
        while (total < linger_bytes) {
            auto n = co_await stream_.async_read_some(net::buffer(scratch), net::redirect_error(net::use_awaitable, ec));
            if (ec) break;
            total += n;
        }
    }

    Task<std::shared_ptr<WsSession>> accept_websocket(const Request::Message& request, const Response& res,
                                                      const WebSocketOptions& options, const LogSink& log) override {
        auto session = std::make_shared<WsStreamSession<beast::tcp_stream>>(stream_, options, log);
        auto ec = co_await session->accept(request, res);
        co_return ec ? nullptr : session;
    }

private:
    beast::tcp_stream& stream_;
};

}  // namespace

Task<> serve_plain(ServerContext& server, std::shared_ptr<ConnectionState> state) {
    TcpTransport transport(state->tcp);
    co_await serve(server, *state, transport);
}

}  // namespace spur::detail
