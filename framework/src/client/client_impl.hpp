#pragma once
// The inside of HttpClient and ClientStream, shared by the files that open a call
// (exchange.cpp), read its body (client_stream.cpp) and follow its redirects (http_client.cpp).

#include <spur/http_client.hpp>

#include "client/connection_pool.hpp"
#include "client/sse_parser.hpp"
#include "client/target.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace spur {

namespace client {
using Clock = std::chrono::steady_clock;
using Deadline = std::optional<Clock::time_point>;
using OutgoingRequest = boost::beast::http::request<boost::beast::http::string_body>;

// Maps a socket or parser error to the client's error kinds; the message names the stage and
// the host, never the request.
HttpClientError failure(const boost::system::error_code& ec, HttpClientError::Kind otherwise, const Target& t,
                        std::string_view stage);
}  // namespace client

struct HttpClient::Impl {
    HttpClientOptions options;
    boost::asio::ssl::context tls_context{boost::asio::ssl::context::tls_client};
    const std::uint64_t id;

    Impl();

    std::unique_ptr<client::Connection> take_idle(const boost::asio::any_io_executor& executor, const std::string& key);
    void give_back(const boost::asio::any_io_executor& executor, const std::string& key, std::unique_ptr<client::Connection> c);

    // A new connection to `t` (TLS handshake included), within connect_timeout and `deadline`.
    // `public_only`: refuse the host unless every address it resolves to is public.
    Task<std::unique_ptr<client::Connection>> connect(const client::Target& t, bool public_only, client::Deadline deadline);

    // The call up to its response's header, with the retries `call` and the options allow.
    // `whole_response`: the body will be read at once, within the same timeout as the header
    // (request()); otherwise each read of the body gets its own timeout (open()).
    Task<std::unique_ptr<ClientStream::Impl>> open(std::shared_ptr<Impl> self, const client::Target& t,
                                                   client::OutgoingRequest& req, bool public_only, const CallOptions& call,
                                                   bool whole_response);

private:
    Task<std::unique_ptr<ClientStream::Impl>> attempt(std::shared_ptr<Impl> self, const client::Target& t,
                                                      client::OutgoingRequest& req, bool public_only,
                                                      client::Deadline deadline, bool whole_response);
};

struct ClientStream::Impl {
    std::shared_ptr<HttpClient::Impl> client;
    boost::asio::any_io_executor executor;
    client::Target target;
    std::unique_ptr<client::Connection> connection;
    boost::beast::http::response_parser<boost::beast::http::buffer_body> parser;
    client::Deadline deadline;
    bool whole_response = false;
    bool finished = false;

    int status = 0;
    ClientHeaders headers;

    std::unique_ptr<char[]> chunk;      // stream_chunk_bytes: what one read may fill
    std::string_view unread;            // the part of the last chunk lines and events have not taken
    std::string line;                   // a line begun in an earlier chunk
    bool skip_lf = false;               // the last line ended with CR: an LF right after it belongs to it
    std::optional<client::SseParser> events;

    std::string_view header_value(std::string_view name) const;
    // The next piece of the body from the wire, "" at its end.
    Task<std::string_view> read_piece();
    // The next line: `cr_ends_line` for event streams, where a lone CR ends a line too.
    Task<std::optional<std::string>> read_line(bool cr_ends_line, std::size_t max_bytes);
    // Sets the socket's expiry for the next wait: options.timeout from now, but no later than the deadline.
    void arm_timer();
    // The body is complete: the connection goes back to the pool if it may be reused.
    void finish();
    void close() noexcept;
    HttpClientError deadline_or(const boost::system::error_code& ec, std::string_view stage);
};

}  // namespace spur
