// WebSocket echo load: C connections each send a message and wait for its echo, in a loop,
// for D seconds; prints messages/s and latency percentiles as one JSON line.
// Run: ws_load PORT TARGET CONNECTIONS SECONDS MESSAGE_BYTES
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Stats {
    std::vector<double> latencies_us;
    long errors = 0;
};

net::awaitable<void> client(unsigned short port, std::string target, std::size_t bytes, Clock::time_point warm,
                            Clock::time_point end, Stats& stats) {
    try {
        websocket::stream<beast::tcp_stream> ws(co_await net::this_coro::executor);
        co_await beast::get_lowest_layer(ws).async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                                                           net::use_awaitable);
        beast::get_lowest_layer(ws).socket().set_option(tcp::no_delay(true));
        beast::get_lowest_layer(ws).expires_never();
        co_await ws.async_handshake("127.0.0.1", target, net::use_awaitable);
        const std::string message(bytes, 'm');
        beast::flat_buffer buffer;
        while (Clock::now() < end) {
            auto start = Clock::now();
            co_await ws.async_write(net::buffer(message), net::use_awaitable);
            co_await ws.async_read(buffer, net::use_awaitable);
            if (buffer.size() != bytes) ++stats.errors;
            buffer.consume(buffer.size());
            if (start >= warm) stats.latencies_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
        }
        co_await ws.async_close(websocket::close_code::normal, net::use_awaitable);
    } catch (const std::exception&) {
        ++stats.errors;
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 6) {
        std::fprintf(stderr, "usage: ws_load PORT TARGET CONNECTIONS SECONDS MESSAGE_BYTES\n");
        return 2;
    }
    const auto port = static_cast<unsigned short>(std::atoi(argv[1]));
    const int connections = std::atoi(argv[3]);
    const double seconds = std::atof(argv[4]);
    const auto bytes = static_cast<std::size_t>(std::atoi(argv[5]));
    net::io_context io(1);
    Stats stats;
    const auto warm = Clock::now() + std::chrono::milliseconds(500);
    const auto end = warm + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    for (int i = 0; i < connections; ++i) net::co_spawn(io, client(port, argv[2], bytes, warm, end, stats), net::detached);
    io.run();
    auto& l = stats.latencies_us;
    std::sort(l.begin(), l.end());
    auto pct = [&](double p) { return l.empty() ? 0.0 : l[static_cast<std::size_t>(p * static_cast<double>(l.size() - 1))]; };
    std::printf("{\"messages\": %zu, \"rps\": %.1f, \"p50\": %.3f, \"p99\": %.3f, \"errors\": %ld}\n", l.size(),
                static_cast<double>(l.size()) / seconds, pct(0.5) / 1000, pct(0.99) / 1000, stats.errors);
}
