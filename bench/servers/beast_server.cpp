// The ceiling: a bare Beast coroutine server in the shape of Beast's own awaitable example,
// answering the same endpoints as spur with the same headers (Server, Date, Content-Type,
// Content-Length). Not a framework: no routing table, no limits, no timeouts.
// Run: beast_server PORT
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cstdlib>
#include <ctime>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

// One-second cache, as any real server does for Date.
std::string_view http_date() {
    static std::time_t cached_at = 0;
    static char text[64];
    std::time_t now = std::time(nullptr);
    if (now != cached_at) {
        std::tm tm{};
        gmtime_r(&now, &tm);
        std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        cached_at = now;
    }
    return text;
}

http::response<http::string_body> handle(const http::request<http::string_body>& req) {
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::server, "beast");
    res.set(http::field::date, http_date());
    if (req.method() == http::verb::get && req.target() == "/plaintext") {
        res.set(http::field::content_type, "text/plain");
        res.body() = "Hello, World!";
    } else if (req.method() == http::verb::get && req.target() == "/json") {
        res.set(http::field::content_type, "application/json");
        res.body() = boost::json::serialize(boost::json::value{{"message", "Hello, World!"}});
    } else {
        res.result(http::status::not_found);
        res.set(http::field::content_type, "text/plain");
        res.body() = "Not Found";
    }
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    return res;
}

net::awaitable<void> session(beast::tcp_stream stream) {
    beast::flat_buffer buffer;
    try {
        for (;;) {
            http::request<http::string_body> req;
            co_await http::async_read(stream, buffer, req, net::use_awaitable);
            auto res = handle(req);
            co_await http::async_write(stream, res, net::use_awaitable);
            if (!res.keep_alive()) break;
        }
    } catch (const boost::system::system_error&) {
        // the peer left; nothing to report in a benchmark
    }
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

net::awaitable<void> listener(tcp::acceptor& acceptor) {
    for (;;) {
        auto socket = co_await acceptor.async_accept(net::use_awaitable);
        socket.set_option(tcp::no_delay(true));
        net::co_spawn(acceptor.get_executor(), session(beast::tcp_stream(std::move(socket))), net::detached);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const auto port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 8080);
    net::io_context io(1);
    tcp::acceptor acceptor(io, {tcp::v4(), port});
    acceptor.listen(net::socket_base::max_listen_connections);
    net::co_spawn(io, listener(acceptor), net::detached);
    net::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](auto, auto) { io.stop(); });
    io.run();
}
