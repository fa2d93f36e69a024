// TLS: the transport over Beast's ssl_stream, and the entry point for a TLS connection.
#include "server/connection.hpp"
#if SPUR_HAS_HTTP2
#include "server/http2/serve_h2.hpp"
#endif
#include "server/tls_context.hpp"
#include "server/transport.hpp"
#include "server/websocket/stream_session.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace spur::detail {

namespace {

using TlsStream = beast::ssl_stream<beast::tcp_stream&>;

class TlsTransport final : public Transport {
public:
    explicit TlsTransport(TlsStream& stream) noexcept : Transport(beast::get_lowest_layer(stream), true), stream_(stream) {}

    Task<std::size_t> read_some(net::mutable_buffer buffer, boost::system::error_code& ec) override {
        co_return co_await stream_.async_read_some(buffer, net::redirect_error(net::use_awaitable, ec));
    }

    Task<std::size_t> write_some(std::span<const net::const_buffer> buffers, boost::system::error_code& ec) override {
        return stream_.async_write_some(buffers, net::redirect_error(net::use_awaitable, ec));
    }

    // TLS's own half-close: close_notify, bounded by the linger time.
    Task<> close_gracefully(std::chrono::milliseconds linger) override {
        boost::system::error_code ec;
        tcp().expires_after(linger);
        co_await stream_.async_shutdown(net::redirect_error(net::use_awaitable, ec));
    }

    Task<std::shared_ptr<WsSession>> accept_websocket(const Request::Message& request, const Response& res,
                                                      const WebSocketOptions& options, const LogSink& log) override {
        auto session = std::make_shared<WsStreamSession<TlsStream>>(stream_, options, log);
        auto ec = co_await session->accept(request, res);
        co_return ec ? nullptr : session;
    }

private:
    TlsStream& stream_;
};

}  // namespace

Task<> serve_tls(ServerContext& server, std::shared_ptr<ConnectionState> state, TlsContext& tls) {
    // A client that speaks plain HTTP here, or anything else that is not TLS, fails the
    // handshake and is closed without an answer.
    TlsStream stream(state->tcp, tls.get());
    state->idle.store(true, std::memory_order_relaxed);  // nothing to finish yet: shutdown may close it
    state->tcp.expires_after(server.options.tls->handshake_timeout);
    boost::system::error_code ec;
    co_await stream.async_handshake(net::ssl::stream_base::server, net::redirect_error(net::use_awaitable, ec));
    state->idle.store(false, std::memory_order_relaxed);
    if (ec || server.stopping.load(std::memory_order_relaxed)) {
        state->tcp.socket().close(ec);
        co_return;
    }
    TlsTransport transport(stream);
#if SPUR_HAS_HTTP2
    const unsigned char* protocol = nullptr;
    unsigned size = 0;
    SSL_get0_alpn_selected(stream.native_handle(), &protocol, &size);
    if (size == 2 && protocol[0] == 'h' && protocol[1] == '2') {
        co_await serve_h2(server, *state, transport, {});
        co_return;
    }
#endif
    co_await serve(server, *state, transport);
}

}  // namespace spur::detail
