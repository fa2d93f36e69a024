#pragma once
// The client's connections: one open socket (plain or TLS) with its read buffer, and the idle
// ones kept per io_context for reuse.

#include <boost/asio/execution_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace spur::client {

struct Connection {
    using tcp_stream = boost::beast::tcp_stream;
    std::unique_ptr<tcp_stream> plain;
    std::unique_ptr<boost::beast::ssl_stream<tcp_stream>> tls;
    boost::beast::flat_buffer buffer;
    std::chrono::steady_clock::time_point idle_since{};

    tcp_stream& lowest() { return tls ? boost::beast::get_lowest_layer(*tls) : *plain; }
    // An idle keep-alive connection the server closed (or wrote to unasked) is readable.
    bool still_idle();
};

// Idle connections live in a service of the io_context their sockets belong to, so they are
// closed while that context's socket services still exist (a context shuts its services down
// in reverse order of creation) — however long the HttpClient itself lives.
class IdleConnections : public boost::asio::execution_context::service {
public:
    using key_type = IdleConnections;
    static inline boost::asio::execution_context::id id;
    explicit IdleConnections(boost::asio::execution_context& context) : service(context) {}

    // The newest idle connection to `key` that is younger than `max_idle_time` and still idle.
    std::unique_ptr<Connection> take(std::uint64_t client, const std::string& key, std::chrono::milliseconds max_idle_time);
    // Keeps `c` unless `max` are kept already (then `c` is left to close).
    bool put(std::uint64_t client, const std::string& key, std::unique_ptr<Connection>& c, std::size_t max);

    std::size_t count(std::uint64_t client);

private:
    void shutdown() override;
    std::mutex mutex_;
    // By client too: connections made under one client's TLS settings never serve another.
    std::map<std::pair<std::uint64_t, std::string>, std::vector<std::unique_ptr<Connection>>> lists_;
};

}  // namespace spur::client
