#pragma once
// A real spur::Server on 127.0.0.1:<free port> running in a background thread, and a raw
// TCP client that sends exact bytes — for the behaviour that only shows on the wire.

#include <spur/server.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>

namespace spur::test {

/// Options suited to tests: loopback, port 0, two I/O threads, no signal handling.
/// Whether `pred` becomes true within `limit`, polled every 10 ms (for state another thread changes).
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return pred();
}

inline ServerOptions test_options() {
    ServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.threads = 2;
    o.handle_signals = false;
    return o;
}

/// Runs `app` until destroyed; the destructor drains like SIGTERM would.
class TestServer {
public:
    explicit TestServer(App& app, ServerOptions options = test_options())
        : server_(app, std::move(options)), port_(server_.start()), thread_([this] { server_.run(); }) {}
    ~TestServer() { stop(); }

    unsigned short port() const { return port_; }
    Server& server() { return server_; }

    /// Starts the graceful shutdown and waits until run() returned.
    void stop() {
        if (thread_.joinable()) {
            server_.shutdown();
            thread_.join();
        }
    }

private:
    Server server_;
    unsigned short port_;
    std::thread thread_;
};

using RawResponse = boost::beast::http::response<boost::beast::http::string_body>;

/// A blocking loopback client; every read gives up after the receive timeout. A blocking call
/// interrupted (EINTR) is carried on: on spur's io_uring backend (SPUR_IO_URING) a thread that
/// submitted to a ring — this one, closing an earlier connection's socket, or starting the
/// server — receives the ring's task work, which interrupts a socket wait that has a timeout.
class RawConnection {
public:
    /// Connects to 127.0.0.1:port from `source` (any loopback address, 127.0.0.2 say, to look
    /// like another client).
    explicit RawConnection(unsigned short port, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000),
                           const char* source = "127.0.0.1")
        : socket_(shared_context()) {
        socket_.open(boost::asio::ip::tcp::v4());
        socket_.bind({boost::asio::ip::make_address(source), 0});
        socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port});
        set_timeout(timeout);
    }

    void set_timeout(std::chrono::milliseconds timeout) {
        timeout_ = timeout;
        timeval tv{};
        tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
        tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
        ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }

    /// The socket's descriptor, for options a test sets itself (SO_LINGER, say).
    int native_handle() { return socket_.native_handle(); }

    void send(std::string_view bytes) {
        if (auto ec = write_all(bytes)) throw boost::system::system_error(ec);
    }

    /// Sends and returns true, or false if the peer has already closed/reset.
    bool try_send(std::string_view bytes) { return !write_all(bytes); }

    /// Reads one response; nullopt if the connection closed or the read timed out first.
    std::optional<RawResponse> read_response(bool head_request = false) {
        boost::beast::http::response_parser<boost::beast::http::string_body> parser;
        parser.body_limit(64 * 1024 * 1024);
        if (head_request) parser.skip(true);
        boost::system::error_code ec;
        do {  // the parser and buffer keep what came before an interruption
            ec = {};
            boost::beast::http::read(socket_, buffer_, parser, ec);
        } while (ec == boost::asio::error::interrupted);
        if (ec) return std::nullopt;
        return parser.release();
    }

    /// Reads until the peer closes (true) or the timeout expires (false). Data is discarded.
    bool wait_closed() {
        char scratch[4096];
        buffer_.clear();
        const auto deadline = std::chrono::steady_clock::now() + timeout_;
        for (;;) {
            // Asio's blocking read waits out SO_RCVTIMEO with poll(-1), so wait here instead.
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            pollfd pfd{socket_.native_handle(), POLLIN, 0};
            if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
            boost::system::error_code ec;
            socket_.read_some(boost::asio::buffer(scratch), ec);
            if (ec == boost::asio::error::interrupted) continue;
            if (ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset) return true;
            if (ec) return false;  // timed out: still open
        }
    }

private:
    boost::system::error_code write_all(std::string_view bytes) {
        boost::system::error_code ec;
        do {
            ec = {};
            bytes.remove_prefix(boost::asio::write(socket_, boost::asio::buffer(bytes.data(), bytes.size()), ec));
        } while (ec == boost::asio::error::interrupted);
        return ec;
    }

    // One for every connection: its blocking calls never run it, and on the io_uring backend
    // each io_context maps a ring of its own (about 1.5 MiB), which 200 clients of a memory
    // test would add to the process's resident size.
    static boost::asio::io_context& shared_context() {
        static boost::asio::io_context context;
        return context;
    }

    boost::asio::ip::tcp::socket socket_;
    boost::beast::flat_buffer buffer_;
    std::chrono::milliseconds timeout_{5000};
};

/// One request on a fresh connection; the response or nullopt.
inline std::optional<RawResponse> round_trip(unsigned short port, std::string_view raw, bool head = false) {
    RawConnection c(port);
    c.send(raw);
    return c.read_response(head);
}

}  // namespace spur::test
