// The WebSocket ceiling: a bare Beast coroutine echo server in the shape of Beast's own
// websocket awaitable example — accept, then read a message and write it back, forever.
// Run: beast_ws_server PORT
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <cstdlib>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

namespace {

net::awaitable<void> session(tcp::socket socket) {
    websocket::stream<beast::tcp_stream> ws(std::move(socket));
    ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    try {
        co_await ws.async_accept(net::use_awaitable);
        beast::flat_buffer buffer;
        for (;;) {
            co_await ws.async_read(buffer, net::use_awaitable);
            ws.text(ws.got_text());
            co_await ws.async_write(buffer.data(), net::use_awaitable);
            buffer.consume(buffer.size());
        }
    } catch (const boost::system::system_error&) {
        // closed by the client
    }
}

net::awaitable<void> listener(tcp::acceptor& acceptor) {
    for (;;) {
        auto socket = co_await acceptor.async_accept(net::use_awaitable);
        socket.set_option(tcp::no_delay(true));
        net::co_spawn(acceptor.get_executor(), session(std::move(socket)), net::detached);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const auto port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 8080);
    net::io_context io(1);
    tcp::acceptor acceptor(io, {tcp::v4(), port});
    net::co_spawn(io, listener(acceptor), net::detached);
    net::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](auto, auto) { io.stop(); });
    io.run();
}
