#include "connection.hpp"

#include "app_impl.hpp"
#include "request_access.hpp"
#include "finish.hpp"
#include "framing.hpp"
#include "tls_context.hpp"
#include "websocket/stream_session.hpp"
#include "writer.hpp"

#include <boost/asio/ssl/error.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <algorithm>
#include <limits>

namespace spur::detail {

namespace {

// Reads fill what the buffer already holds, at least min_read: an idle keep-alive connection
// then keeps a buffer the size of its requests so far, not a fixed large block.
constexpr std::size_t min_read = 1024;
constexpr std::size_t max_read = 16 * 1024;
constexpr std::chrono::milliseconds linger_time{2000};
constexpr std::chrono::milliseconds linger_time_draining{250};
constexpr std::size_t linger_bytes = 256 * 1024;
constexpr std::chrono::seconds reject_write_timeout{5};

using Parser = http::request_parser<http::string_body>;

bool peer_gone(const boost::system::error_code& ec) {
    return ec == http::error::end_of_stream || ec == http::error::partial_message || ec == net::error::eof ||
           ec == net::error::connection_reset || ec == net::error::operation_aborted ||
           ec == net::error::broken_pipe || ec == net::error::bad_descriptor ||
           ec == net::ssl::error::stream_truncated;
}

// Chunked trailers must never masquerade as headers (an Authorization trailer must not
// authenticate); Beast 1.81 appends them to the header fields, so drop what it appended.
void drop_trailers(http::fields& fields, std::size_t header_count) {
    std::size_t i = 0;
    for (auto it = fields.begin(); it != fields.end();) {
        if (i++ >= header_count) {
            it = fields.erase(it);
        } else {
            ++it;
        }
    }
}

template <class Stream>
class Connection {
public:
    static constexpr bool is_tls = !std::is_same_v<Stream, beast::tcp_stream>;

    Connection(ServerContext& server, ConnectionState& state, Stream& stream)
        : server_(server), options_(server.options), state_(state), stream_(stream), tcp_(state.tcp),
          // Bounded: oversized chunk extensions or trailers fail as buffer_overflow
          // instead of growing memory or throwing out of Beast.
          buffer_(options_.max_request_line + options_.max_header_bytes + 8 * 1024) {
        boost::system::error_code ec;
        auto endpoint = tcp_.socket().remote_endpoint(ec);
        if (!ec) remote_ = endpoint.address().to_string();
    }

    Task<> run() {
        bool first = true;
        for (;;) {
            if (!co_await wait_for_request(first)) break;
            first = false;
            Step step = co_await serve_one();
            if (step == Step::keep_alive) continue;
            if (step == Step::linger) co_await lingering_close();
            break;
        }
        boost::system::error_code ec;
        tcp_.socket().close(ec);
    }

private:
    enum class Step { keep_alive, linger, close };

    std::size_t free_space() const { return buffer_.max_size() - buffer_.size(); }

    Task<std::size_t> read_some(boost::system::error_code& ec) {
        const std::size_t want = std::clamp(buffer_.capacity() - buffer_.size(), min_read, max_read);
        auto n = co_await stream_.async_read_some(buffer_.prepare(std::min(want, free_space())),
                                                  net::redirect_error(net::use_awaitable, ec));
        buffer_.commit(n);
        co_return n;
    }

    // Waits for the first byte of the next request; false means close quietly
    // (peer left, idle timeout, or the server is draining).
    Task<bool> wait_for_request(bool first) {
        if (buffer_.size() > 0) co_return true;  // a pipelined request is already here
        if (server_.stopping.load(std::memory_order_relaxed)) co_return false;
        state_.idle = true;
        tcp_.expires_after(first ? options_.header_timeout : options_.idle_timeout);
        boost::system::error_code ec;
        co_await read_some(ec);
        state_.idle = false;
        co_return !ec;
    }

    Task<Step> serve_one() {
        // 1. The header block, scanned by spur before Beast sees it.
        HeaderScanner scanner(options_.max_request_line, options_.max_header_bytes);
        tcp_.expires_after(options_.header_timeout);
        for (;;) {
            auto state = scanner.scan(buffered());
            if (state == HeaderScanner::State::complete) break;
            if (state == HeaderScanner::State::rejected) co_return co_await reject(scanner.rejection());
            if (free_space() == 0)
                co_return co_await reject({431, "headers_too_large", "Request header fields too large"});
            boost::system::error_code ec;
            co_await read_some(ec);
            // tcp_stream closes the socket when its deadline passes, so a slow client is
            // dropped without an answer (as nginx does).
            if (ec) co_return Step::close;
        }

        // 2. Beast parses the header; spur checks what Beast lets through.
        Parser parser;
        parser.header_limit(std::numeric_limits<std::uint32_t>::max());  // the scanner enforces limits
        parser.body_limit(boost::none);  // set per route below, once the target is known
        boost::system::error_code ec;
        auto view = buffered();
        parser.put(net::buffer(view.data() + scanner.begin(), scanner.end() - scanner.begin()), ec);
        buffer_.consume(scanner.end());
        if (ec || !parser.is_header_done())
            co_return co_await reject({400, "bad_request", "Malformed request header"});
        if (auto rejection = check_framing(parser.get().base())) co_return co_await reject(rejection);

        // 3. The body, within the route's limit and the body timeout — or, on a
        //    stream_body() route, left on the socket for the handler to read in chunks.
        bool stream_body = false;
        if (!parser.is_done()) {
            auto& message = parser.get();
            const auto settings = AppAccess::impl(server_.app).body_settings_for(message.method_string(), message.target(),
                                                                                 options_.max_body_bytes);
            if (auto length = parser.content_length(); length && *length > settings.limit)
                co_return co_await reject({413, "payload_too_large", "Request body too large"});
            if (auto expect = message[http::field::expect]; !expect.empty()) {
                if (!beast::iequals(expect, "100-continue"))
                    co_return co_await reject({417, "expectation_failed", "Unsupported Expect header"});
                if (message.version() == 11) {
                    static constexpr std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
                    tcp_.expires_after(options_.write_timeout);
                    co_await net::async_write(stream_, net::buffer(interim.data(), interim.size()),
                                              net::redirect_error(net::use_awaitable, ec));
                    if (ec) co_return Step::close;
                }
            }
            parser.body_limit(settings.limit);
            stream_body = settings.stream;
            if (!stream_body) {
                const auto header_count = static_cast<std::size_t>(std::distance(message.begin(), message.end()));
                tcp_.expires_after(options_.body_timeout);
                co_await http::async_read(stream_, buffer_, parser, net::redirect_error(net::use_awaitable, ec));
                if (ec == http::error::body_limit)
                    co_return co_await reject({413, "payload_too_large", "Request body too large"});
                if (ec == beast::error::timeout || (ec && peer_gone(ec))) co_return Step::close;
                if (ec) co_return co_await reject({400, "bad_request", "Malformed request body"});
                if (parser.chunked()) drop_trailers(parser.get().base(), header_count);
            }
        }

        // 4. The app, then the response.
        if (stream_body) {
            // Switch body type now that the header is parsed; the header moves into the
            // Request and the body is read into the handler's chunks. Trailers land in the
            // parser's moved-from header, never in the Request's.
            http::request_parser<http::buffer_body> body_parser(std::move(parser));
            Request req(Request::Message(std::move(body_parser.get().base())), remote_);
            StreamedBody source(*this, body_parser);
            RequestAccess::set_body_source(req, &source);
            co_return co_await respond(req, [&] { return body_parser.is_done() && !source.failed(); });
        }
        Request req(parser.release(), remote_);
        co_return co_await respond(req, [] { return true; });
    }

    // Runs the app and writes its response. Keep-alive also needs the body fully consumed,
    // or the next "request" would start inside it.
    template <class BodyConsumed>
    Task<Step> respond(Request& req, BodyConsumed body_consumed) {
        Response res;
        co_await server_.app.handle(req, res);
        if (res.upgrade_handler() && res.status() == 101) co_return co_await upgrade(req, res);
        const bool keep_alive =
            req.keep_alive() && body_consumed() && !server_.stopping.load(std::memory_order_relaxed);
        auto framing = finish_response(res, req.version(), req.method() == "HEAD", keep_alive);
        auto ec = co_await write_response(stream_, res, framing, options_.write_timeout, server_.app.log(), head_);
        if (ec) co_return Step::close;
        co_return framing.keep_alive ? Step::keep_alive : Step::linger;
    }

    // Feeds a stream_body() route's handler: each next() reads at least one byte of body
    // (or reports the end) under the body timeout.
    class StreamedBody : public BodySource {
    public:
        StreamedBody(Connection& c, http::request_parser<http::buffer_body>& parser) : c_(c), parser_(parser) {}

        Task<std::string_view> next() override {
            for (;;) {
                if (parser_.is_done() || failed_) co_return std::string_view{};
                auto& body = parser_.get().body();
                body.data = chunk_;
                body.size = sizeof chunk_;
                c_.tcp_.expires_after(c_.options_.body_timeout);
                boost::system::error_code ec;
                co_await http::async_read_some(c_.stream_, c_.buffer_, parser_, net::redirect_error(net::use_awaitable, ec));
                if (ec == http::error::need_buffer) ec = {};  // our chunk is full: hand it over
                if (ec == http::error::body_limit) {
                    failed_ = true;
                    throw HttpError(413, "payload_too_large", "Request body too large");
                }
                if (ec) {
                    failed_ = true;
                    throw HttpError(400, "bad_request", "Request body could not be read");
                }
                const std::size_t n = sizeof chunk_ - body.size;
                if (n > 0) co_return std::string_view(chunk_, n);
            }
        }

        bool failed() const noexcept { return failed_; }

    private:
        Connection& c_;
        http::request_parser<http::buffer_body>& parser_;
        char chunk_[16 * 1024];
        bool failed_ = false;
    };

    std::string_view buffered() const {
        auto data = buffer_.data();
        return {static_cast<const char*>(data.data()), data.size()};
    }

    // Answers a request spur refuses before the app sees it, then closes: after a framing
    // error the rest of the stream cannot be trusted.
    Task<Step> reject(const Rejection& rejection) {
        Response res;
        render_error(res, rejection.status, rejection.code, rejection.message);
        auto framing = finish_response(res, 11, false, false);
        auto timeout = std::min<std::chrono::milliseconds>(options_.write_timeout, reject_write_timeout);
        auto ec = co_await write_response(stream_, res, framing, timeout, server_.app.log(), head_);
        co_return ec ? Step::close : Step::linger;
    }

    // Hands the connection to a ws route's handler; the connection ends with it.
    Task<Step> upgrade(Request& req, Response& res) {
        // RFC 6455 clients wait for the 101 before sending frames; bytes already here would
        // be frames Beast never sees, so such a client is dropped.
        if (buffer_.size() > 0) co_return Step::close;
        tcp_.expires_never();  // the WebSocket layer runs its own handshake and idle timers
        auto session = std::make_shared<WsStreamSession<Stream>>(stream_, options_.websocket, server_.app.log());
        auto ec = co_await session->accept(req.message(), res);
        if (ec) co_return Step::close;
        state_.websocket = session;
        if (server_.stopping.load(std::memory_order_relaxed)) session->close(WsCloseCode::going_away, "server shutting down");
        co_await session->run(*res.upgrade_handler(), req);
        state_.websocket.reset();
        co_return Step::close;
    }

    // Half-close, then read and discard for a moment, so that unread request bytes do not
    // make the kernel answer with RST and destroy the response before the client reads it.
    // Over TLS the half-close is TLS's own close_notify.
    Task<> lingering_close() {
        boost::system::error_code ec;
        if constexpr (is_tls) {
            tcp_.expires_after(linger_time_draining);
            co_await stream_.async_shutdown(net::redirect_error(net::use_awaitable, ec));
            co_return;
        }
        tcp_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
        if (ec) co_return;
        tcp_.expires_after(server_.stopping.load(std::memory_order_relaxed) ? linger_time_draining : linger_time);
        char scratch[4096];
        std::size_t total = 0;
        while (total < linger_bytes) {
            auto n = co_await stream_.async_read_some(net::buffer(scratch), net::redirect_error(net::use_awaitable, ec));
            if (ec) break;
            total += n;
        }
    }

    ServerContext& server_;
    const ServerOptions& options_;
    ConnectionState& state_;
    Stream& stream_;
    beast::tcp_stream& tcp_;
    beast::flat_buffer buffer_;
    std::string head_;  // the response header block, reused across requests
    std::string remote_;
};

}  // namespace

Task<> serve_connection(ServerContext& server, std::shared_ptr<ConnectionState> state, TlsContext* tls) {
    if (!tls) {
        Connection<beast::tcp_stream> connection(server, *state, state->tcp);
        co_await connection.run();
        co_return;
    }
    // A client that speaks plain HTTP here, or anything else that is not TLS, fails the
    // handshake and is closed without an answer.
    beast::ssl_stream<beast::tcp_stream&> stream(state->tcp, tls->get());
    state->idle = true;  // nothing to finish yet: shutdown may close it
    state->tcp.expires_after(server.options.tls->handshake_timeout);
    boost::system::error_code ec;
    co_await stream.async_handshake(net::ssl::stream_base::server, net::redirect_error(net::use_awaitable, ec));
    state->idle = false;
    if (ec || server.stopping.load(std::memory_order_relaxed)) {
        state->tcp.socket().close(ec);
        co_return;
    }
    Connection<beast::ssl_stream<beast::tcp_stream&>> connection(server, *state, stream);
    co_await connection.run();
}

}  // namespace spur::detail
