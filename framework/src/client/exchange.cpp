// One call up to its response's header: a connection (pooled or new), the request written, the
// header read — and the attempts again that the retry policy and the deadline allow.
#include "client/client_impl.hpp"

#include "client/address_policy.hpp"
#include "client/retry.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace spur {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using Kind = HttpClientError::Kind;
using namespace client;

namespace client {

HttpClientError failure(const boost::system::error_code& ec, Kind otherwise, const Target& t, std::string_view stage) {
    Kind kind = otherwise;
    if (ec == beast::error::timeout) kind = Kind::timeout;
    else if (ec == net::error::operation_aborted) kind = Kind::cancelled;
    else if (ec == http::error::body_limit || ec == http::error::header_limit || ec == http::error::buffer_overflow) kind = Kind::too_large;
    else if (ec.category() == net::error::get_ssl_category() || ec == ssl::error::stream_truncated) kind = Kind::tls;
    return HttpClientError(kind, std::string(stage) + " " + t.key + ": " + ec.message());
}

}  // namespace client

namespace {

std::atomic<std::uint64_t> next_client_id{1};

IdleConnections& pool_of(const net::any_io_executor& executor) {
    return net::use_service<IdleConnections>(net::query(executor, net::execution::context));
}

bool connected_to_public(Connection& c) {
    boost::system::error_code ec;
    const auto peer = c.lowest().socket().remote_endpoint(ec);
    return !ec && is_public(peer.address());
}

// The earlier of now + `limit` and the deadline.
Clock::time_point until(std::chrono::milliseconds limit, const Deadline& deadline) {
    const auto at = Clock::now() + limit;
    return deadline && *deadline < at ? *deadline : at;
}

HttpClientError deadline_passed(const Target& t, int attempts, const std::optional<HttpClientError>& last) {
    std::string message = "the call's deadline passed (" + t.key + ", " + std::to_string(attempts) + " attempt" +
                          (attempts == 1 ? "" : "s");
    if (last) message += "; the last failed: " + std::string(last->what());
    return HttpClientError(Kind::timeout, message + ")");
}

template <class Stream>
Task<boost::system::error_code> write_read_header(Stream& stream, Connection& c, OutgoingRequest& req,
                                                  http::response_parser<http::buffer_body>& parser) {
    auto [write_ec, written] = co_await http::async_write(stream, req, net::as_tuple(net::use_awaitable));
    (void)written;
    if (write_ec) co_return write_ec;
    auto [read_ec, read] = co_await http::async_read_header(stream, c.buffer, parser, net::as_tuple(net::use_awaitable));
    (void)read;
    co_return read_ec;
}

}  // namespace

HttpClient::Impl::Impl() : id(next_client_id.fetch_add(1)) {}

std::unique_ptr<Connection> HttpClient::Impl::take_idle(const net::any_io_executor& executor, const std::string& key) {
    return pool_of(executor).take(id, key, options.idle_timeout);
}

void HttpClient::Impl::give_back(const net::any_io_executor& executor, const std::string& key, std::unique_ptr<Connection> c) {
    pool_of(executor).put(id, key, c, options.max_idle_per_host);  // beyond the limit, c closes here
}

// The check of `public_only` runs on the very endpoints connected to, so a second lookup
// cannot change the answer.
Task<std::unique_ptr<Connection>> HttpClient::Impl::connect(const Target& t, bool public_only, Deadline deadline) {
    using namespace net::experimental::awaitable_operators;
    auto executor = co_await net::this_coro::executor;
    const auto connect_by = until(options.connect_timeout, deadline);
    tcp::resolver resolver(executor);
    net::steady_timer timer(executor, connect_by);
    auto resolved = co_await (resolver.async_resolve(t.host, t.port, net::as_tuple(net::use_awaitable)) ||
                              timer.async_wait(net::as_tuple(net::use_awaitable)));
    if (resolved.index() == 1) throw HttpClientError(Kind::timeout, "resolving " + t.key + ": timed out");
    auto [resolve_ec, endpoints] = std::get<0>(std::move(resolved));
    if (resolve_ec) throw failure(resolve_ec, Kind::connect, t, "resolving");
    if (public_only)
        for (const auto& entry : endpoints)
            if (!is_public(entry.endpoint().address()))
                throw HttpClientError(Kind::blocked, "refusing " + t.key + ": it resolves to " +
                                                         entry.endpoint().address().to_string() +
                                                         ", which is not a public address (HttpClientOptions::block_private_*)");

    auto c = std::make_unique<Connection>();
    // Bytes the parser has not consumed yet: a header (max_header_bytes) or a chunk line
    // and one read's worth. Beast bounds neither chunk extensions nor trailers itself.
    c->buffer.max_size(options.max_header_bytes + 64 * 1024);
    if (t.tls) c->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(executor, tls_context);
    else c->plain = std::make_unique<beast::tcp_stream>(executor);
    auto& stream = c->lowest();
    stream.expires_at(connect_by);
    auto [connect_ec, endpoint] = co_await stream.async_connect(endpoints, net::as_tuple(net::use_awaitable));
    if (connect_ec) throw failure(connect_ec, Kind::connect, t, "connecting to");
    (void)endpoint;
    if (c->tls) {
        // SNI names the host; the certificate must name it too (or its address).
        if (!is_ip_literal(t.host) && !SSL_set_tlsext_host_name(c->tls->native_handle(), t.host.c_str()))
            throw HttpClientError(Kind::tls, "TLS " + t.key + ": cannot set the server name");
        if (options.verify_tls) c->tls->set_verify_callback(ssl::host_name_verification(t.host));
        auto [tls_ec] = co_await c->tls->async_handshake(ssl::stream_base::client, net::as_tuple(net::use_awaitable));
        if (tls_ec) throw failure(tls_ec, Kind::tls, t, "TLS handshake with");
    }
    co_return c;
}

Task<std::unique_ptr<ClientStream::Impl>> HttpClient::Impl::attempt(std::shared_ptr<Impl> self, const Target& t,
                                                                    OutgoingRequest& req, bool public_only,
                                                                    Deadline deadline, bool whole_response) {
    const auto executor = co_await net::this_coro::executor;
    for (int stale = 0;; ++stale) {
        auto c = take_idle(executor, t.key);
        // A pooled connection an unchecked request opened may lead somewhere this one may not go.
        if (c && public_only && !connected_to_public(*c)) give_back(executor, t.key, std::move(c));
        const bool reused = c != nullptr;
        if (!c) c = co_await connect(t, public_only, deadline);

        auto s = std::make_unique<ClientStream::Impl>();
        s->client = self;
        s->executor = executor;
        s->target = t;
        s->deadline = deadline;
        s->whole_response = whole_response;
        s->parser.body_limit(options.max_response_bytes);
        s->parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
        if (req.method() == http::verb::head) s->parser.skip(true);
        auto& conn = *c;
        s->connection = std::move(c);
        s->arm_timer();
        boost::system::error_code ec;
        if (conn.tls) ec = co_await write_read_header(*conn.tls, conn, req, s->parser);
        else ec = co_await write_read_header(*conn.plain, conn, req, s->parser);
        if (!ec) {
            const auto& head = s->parser.get();
            s->status = static_cast<int>(head.result_int());
            for (const auto& field : head) s->headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
            if (s->parser.is_done()) s->finish();
            co_return s;
        }
        const bool answered = s->parser.got_some() || conn.buffer.size() > 0;
        auto error = s->deadline_or(ec, "request to");
        s->close();
        // A pooled connection the server closed between our check and our write: nothing
        // was processed, so an idempotent request may go again, once, on a new connection.
        if (!(reused && !answered && stale == 0 && idempotent(std::string_view(req.method_string())) &&
              error.kind() == Kind::protocol))
            throw error;
    }
}

Task<std::unique_ptr<ClientStream::Impl>> HttpClient::Impl::open(std::shared_ptr<Impl> self, const Target& t,
                                                                 OutgoingRequest& req, bool public_only,
                                                                 const CallOptions& call, bool whole_response) {
    const RetryPolicy& policy = call.retry() ? *call.retry() : options.retry;
    const auto& deadline = call.deadline();
    ClientHeaders sent;  // only the header that makes a POST repeatable matters here
    if (auto key = req.find("Idempotency-Key"); key != req.end()) sent.emplace_back("Idempotency-Key", std::string(key->value()));
    const bool repeatable = may_repeat(std::string_view(req.method_string()), sent);
    std::optional<HttpClientError> last;
    // The answer before a backoff wait, kept through it: when the wait or the next attempt
    // runs into the deadline (a timer fires late on a loaded host), that answer beats none.
    std::unique_ptr<ClientStream::Impl> previous;
    for (int attempt = 1;; ++attempt) {
        if (deadline && Clock::now() >= *deadline) {
            if (previous) co_return previous;
            throw deadline_passed(t, attempt - 1, last);
        }
        std::unique_ptr<ClientStream::Impl> s;
        last.reset();
        try {
            s = co_await this->attempt(self, t, req, public_only, deadline, whole_response);
        } catch (const HttpClientError& e) {
            if (!retryable_failure(e.kind())) throw;
            if (previous && deadline && Clock::now() >= *deadline) co_return previous;
            last = e;
        }
        previous.reset();  // closes that connection, its body unread
        const bool final_attempt = !repeatable || attempt >= policy.max_attempts;
        if (s && (final_attempt || !retryable_status(policy, s->status))) co_return s;
        if (!s && final_attempt) {
            if (deadline && Clock::now() >= *deadline) throw deadline_passed(t, attempt, last);
            throw *last;
        }
        auto wait = backoff(policy, attempt);
        if (s) {
            if (auto asked = retry_after(s->header_value("Retry-After"))) {
                if (*asked > policy.max_retry_after) co_return s;
                wait = *asked;
            }
            if (deadline && Clock::now() + wait >= *deadline) co_return s;  // the answer we have beats none
        } else if (deadline && Clock::now() + wait >= *deadline) {
            throw deadline_passed(t, attempt, last);
        }
        // Kept only where it may yet be the answer: without a deadline it would hold a
        // connection through the wait for nothing.
        if (deadline) previous = std::move(s);
        else s.reset();  // closes that connection, its body unread
        net::steady_timer pause(co_await net::this_coro::executor, wait);
        auto [ec] = co_await pause.async_wait(net::as_tuple(net::use_awaitable));
        if (ec == net::error::operation_aborted)
            throw HttpClientError(Kind::cancelled, "waiting to retry " + t.key + ": cancelled");
    }
}

}  // namespace spur
