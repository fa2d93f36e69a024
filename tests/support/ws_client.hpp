#pragma once
// A blocking Beast WebSocket client for tests: connect, handshake, read and write whole messages.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <optional>
#include <string>

namespace spur::test {

class WsClient {
public:
    /// Connects and performs the handshake on `target`; throws boost::system::system_error if
    /// it is declined (response() then holds the server's answer).
    explicit WsClient(unsigned short port, const std::string& target = "/", const std::string& authorization = {},
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(5000))
        : ws_(io_) {
        ws_.next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), port});
        timeval tv{};
        tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
        tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
        ::setsockopt(ws_.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (!authorization.empty()) {
            ws_.set_option(boost::beast::websocket::stream_base::decorator(
                [authorization](boost::beast::websocket::request_type& r) { r.set("Authorization", authorization); }));
        }
        ws_.handshake(response_, "127.0.0.1", target);
    }

    void send(const std::string& text, bool binary = false) {
        ws_.binary(binary);
        ws_.write(boost::asio::buffer(text));
    }

    /// The next message; nullopt when the connection closed or the read timed out.
    std::optional<std::string> read() {
        boost::beast::flat_buffer buffer;
        boost::system::error_code ec;
        ws_.read(buffer, ec);
        if (ec) {
            error_ = ec;
            return std::nullopt;
        }
        return boost::beast::buffers_to_string(buffer.data());
    }

    /// Reads until the server closes; returns its close code (0 if the TCP connection just ended).
    std::uint16_t read_until_closed() {
        while (read()) {
        }
        return ws_.reason().code;
    }

    void close(std::uint16_t code = 1000) { ws_.close(boost::beast::websocket::close_reason(code)); }
    /// Drops the TCP connection without a close frame.
    void abort() {
        boost::system::error_code ec;
        ws_.next_layer().close(ec);
    }
    bool got_binary() const { return ws_.got_binary(); }
    boost::system::error_code error() const { return error_; }
    const boost::beast::websocket::response_type& response() const { return response_; }
    boost::beast::websocket::stream<boost::asio::ip::tcp::socket>& stream() { return ws_; }

private:
    boost::asio::io_context io_;
    boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_;
    boost::beast::websocket::response_type response_;
    boost::system::error_code error_;
};

}  // namespace spur::test
