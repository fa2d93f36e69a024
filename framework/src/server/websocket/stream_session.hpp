#pragma once
// The transport half of a WebSocket connection: Beast's websocket::stream over the
// connection's own stream (plain TCP or TLS), borrowed from the connection.

#include "server/websocket/session.hpp"

#include <spur/response.hpp>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket/stream.hpp>

namespace spur::detail {

template <class Stream>
class WsStreamSession final : public WsSession {
public:
    WsStreamSession(Stream& stream, const WebSocketOptions& options, const LogSink& log)
        : WsSession(stream.get_executor(), options, log), ws_(stream) {
        namespace websocket = beast::websocket;
        websocket::stream_base::timeout timeout{};
        timeout.handshake_timeout = std::chrono::seconds(10);  // also bounds the closing handshake
        timeout.idle_timeout = options.idle_timeout;
        timeout.keep_alive_pings = true;  // ping at half the idle time, close at the whole
        ws_.set_option(timeout);
        ws_.read_message_max(options.max_message_bytes);
        ws_.auto_fragment(false);
    }

    /// Answers the upgrade with 101, carrying the headers middleware put on `res` (request
    /// id, cookies, CORS). Beast answers a malformed handshake with 400 itself.
    Task<boost::system::error_code> accept(const Request::Message& request, const Response& res) {
        const Response::Header& extra = res.header();
        ws_.set_option(beast::websocket::stream_base::decorator([&extra](beast::websocket::response_type& r) {
            for (const auto& field : extra) {
                if (field.name() == http::field::connection || field.name() == http::field::upgrade ||
                    field.name() == http::field::content_length || field.name() == http::field::transfer_encoding)
                    continue;
                r.insert(field.name_string(), field.value());
            }
            r.set(http::field::server, "spur");
        }));
        boost::system::error_code ec;
        co_await ws_.async_accept(request, net::redirect_error(net::use_awaitable, ec));
        // The decorator refers to `res`, which the connection is about to drop.
        ws_.set_option(beast::websocket::stream_base::decorator([](beast::websocket::response_type&) {}));
        co_return ec;
    }

protected:
    Task<boost::system::error_code> read_message(std::string& out, bool& binary) override {
        boost::system::error_code ec;
        auto buffer = net::dynamic_buffer(out);
        co_await ws_.async_read(buffer, net::redirect_error(net::use_awaitable, ec));
        binary = ws_.got_binary();
        co_return ec;
    }

    Task<boost::system::error_code> write_message(const std::string& data, bool binary) override {
        boost::system::error_code ec;
        ws_.binary(binary);
        co_await ws_.async_write(net::buffer(data), net::redirect_error(net::use_awaitable, ec));
        co_return ec;
    }

    Task<boost::system::error_code> write_close(WsCloseCode code, const std::string& reason) override {
        boost::system::error_code ec;
        beast::websocket::close_reason why(static_cast<beast::websocket::close_code>(code));
        why.reason.assign(reason.data(), std::min<std::size_t>(reason.size(), 123));  // a close frame holds 125 bytes
        co_await ws_.async_close(why, net::redirect_error(net::use_awaitable, ec));
        co_return ec;
    }

    std::uint16_t received_close_code() const override { return ws_.reason().code; }

    void close_transport() override {
        boost::system::error_code ec;
        beast::get_lowest_layer(ws_).socket().close(ec);
    }

private:
    beast::websocket::stream<Stream&> ws_;
};

}  // namespace spur::detail
