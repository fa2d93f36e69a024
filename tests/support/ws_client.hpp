#pragma once
// A blocking Beast WebSocket client for tests: connect, handshake, read and write whole messages.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <spur/websocket.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace spur::test {

/// A blocking TCP socket whose reads and writes carry on after EINTR: on spur's io_uring backend
/// (SPUR_IO_URING) a thread that submitted to a ring — this one, starting the server or closing
/// a socket — receives the ring's task work, which interrupts a socket wait that has a timeout
/// (SO_RCVTIMEO); Beast's WebSocket stream would take that for a failure and be done.
class RetryingSocket {
public:
    using executor_type = boost::asio::ip::tcp::socket::executor_type;

    explicit RetryingSocket(boost::asio::io_context& io) : socket_(io) {}
    executor_type get_executor() { return socket_.get_executor(); }
    boost::asio::ip::tcp::socket& socket() noexcept { return socket_; }

    template <class Buffers>
    std::size_t read_some(const Buffers& buffers, boost::system::error_code& ec) {
        std::size_t n;
        do {
            ec = {};
            n = socket_.read_some(buffers, ec);
        } while (ec == boost::asio::error::interrupted);
        return n;
    }
    template <class Buffers>
    std::size_t read_some(const Buffers& buffers) {
        boost::system::error_code ec;
        const std::size_t n = read_some(buffers, ec);
        if (ec) throw boost::system::system_error(ec);
        return n;
    }
    template <class Buffers>
    std::size_t write_some(const Buffers& buffers, boost::system::error_code& ec) {
        std::size_t n;
        do {
            ec = {};
            n = socket_.write_some(buffers, ec);
        } while (ec == boost::asio::error::interrupted);
        return n;
    }
    template <class Buffers>
    std::size_t write_some(const Buffers& buffers) {
        boost::system::error_code ec;
        const std::size_t n = write_some(buffers, ec);
        if (ec) throw boost::system::system_error(ec);
        return n;
    }

    friend void beast_close_socket(RetryingSocket& s) {
        boost::system::error_code ec;
        s.socket_.close(ec);
    }
    friend void teardown(boost::beast::role_type role, RetryingSocket& s, boost::system::error_code& ec) {
        boost::beast::websocket::teardown(role, s.socket_, ec);
    }

private:
    boost::asio::ip::tcp::socket socket_;
};

class WsClient {
public:
    /// Connects and performs the handshake on `target`; throws boost::system::system_error if
    /// it is declined (response() then holds the server's answer).
    explicit WsClient(unsigned short port, const std::string& target = "/", const std::string& authorization = {},
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(5000))
        : ws_(io_) {
        ws_.next_layer().socket().connect({boost::asio::ip::make_address("127.0.0.1"), port});
        timeval tv{};
        tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
        tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
        ::setsockopt(ws_.next_layer().socket().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
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
        ws_.next_layer().socket().close(ec);
    }
    bool got_binary() const { return ws_.got_binary(); }
    boost::system::error_code error() const { return error_; }
    const boost::beast::websocket::response_type& response() const { return response_; }
    boost::beast::websocket::stream<RetryingSocket>& stream() { return ws_; }

private:
    boost::asio::io_context io_;
    boost::beast::websocket::stream<RetryingSocket> ws_;
    boost::beast::websocket::response_type response_;
    boost::system::error_code error_;
};

/// A WebSocket route's handler that sends every message back as it came (text or binary).
inline Task<> echo_messages(WebSocket& ws) {
    while (auto m = co_await ws.receive()) {
        if (m->binary) {
            co_await ws.send_binary(m->data);
        } else {
            co_await ws.send(m->data);
        }
    }
}

/// A raw HTTP/1.1 WebSocket upgrade request for `target`, with the `extra` header lines.
inline std::string upgrade_request(std::string_view target, std::string_view extra = "") {
    return "GET " + std::string(target) +
           " HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
           std::string(extra) + "\r\n";
}

}  // namespace spur::test
