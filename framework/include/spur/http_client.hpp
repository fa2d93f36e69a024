#pragma once
// spur::HttpClient — calls other HTTP services from handlers: pooled keep-alive connections,
// TLS verified by default, timeouts, cancellation, size limits, redirects on request, retries
// of what is safe to repeat, a deadline per call, trace context, and responses read as they
// arrive (chunks, NDJSON lines, server-sent events).

#include <spur/sse/event.hpp>
#include <spur/task.hpp>

#include <boost/json/value.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost::asio {
class execution_context;
}

namespace spur {

class Request;

/// Header fields of a request or response, in order, names as written.
using ClientHeaders = std::vector<std::pair<std::string, std::string>>;

/// When a call is sent again. Only a request whose repetition is harmless is ever repeated: an
/// idempotent method (GET, HEAD, OPTIONS, PUT, DELETE, TRACE) or one carrying an
/// `Idempotency-Key` header. Anything else (a plain POST or PATCH) is sent once, whatever this says.
/// Retried: a failure to connect, an attempt's timeout, a connection reset or closed before the
/// response's header was complete, and a response whose status is in `statuses`. Never retried:
/// a response already handed to the caller (a stream half read), TLS and URL errors, cancellation.
struct RetryPolicy {
    /// Attempts in all, the first included; 1 never retries.
    int max_attempts = 1;
    /// The wait before the second attempt; it doubles for each further one, up to max_backoff.
    /// Each wait is drawn at random between half of that and all of it (jitter), so clients
    /// that failed together do not all come back at the same moment.
    std::chrono::milliseconds initial_backoff{100};
    std::chrono::milliseconds max_backoff{2'000};
    /// Statuses worth another attempt. A `Retry-After` on such a response (seconds or an HTTP
    /// date) replaces the backoff, up to max_retry_after.
    std::vector<int> statuses{502, 503, 504};
    /// The longest Retry-After waited for. A longer one, or one that would end after the call's
    /// deadline, is not waited for: the response is returned as it is.
    std::chrono::milliseconds max_retry_after{5'000};
};

/// Settings of one call, beyond the client's. A class rather than an aggregate so that
/// `co_await client.get(url, {}, CallOptions().timeout(2s))` is safe on GCC 12.
class CallOptions {
public:
    CallOptions() noexcept {}  // NOLINT(modernize-use-equals-default): user-provided, so not an aggregate
    /// The whole call — every attempt, every wait between them, and for open() the reading of
    /// the stream — ends by `at`; past it the call fails with Kind::timeout.
    CallOptions& deadline(std::chrono::steady_clock::time_point at) {
        deadline_ = at;
        return *this;
    }
    /// deadline(now + `budget`).
    CallOptions& timeout(std::chrono::milliseconds budget) { return deadline(std::chrono::steady_clock::now() + budget); }
    /// Replaces HttpClientOptions::retry for this call.
    CallOptions& retry(RetryPolicy policy) {
        retry_ = std::move(policy);
        return *this;
    }
    /// W3C trace context to send (`traceparent`, and `tracestate` when not empty) unless the
    /// call's own headers already hold a traceparent. call_from() sets it.
    CallOptions& trace(std::string traceparent, std::string tracestate = {}) {
        traceparent_ = std::move(traceparent);
        tracestate_ = std::move(tracestate);
        return *this;
    }

    const std::optional<std::chrono::steady_clock::time_point>& deadline() const noexcept { return deadline_; }
    const std::optional<RetryPolicy>& retry() const noexcept { return retry_; }
    const std::string& traceparent() const noexcept { return traceparent_; }
    const std::string& tracestate() const noexcept { return tracestate_; }

private:
    std::optional<std::chrono::steady_clock::time_point> deadline_;
    std::optional<RetryPolicy> retry_;
    std::string traceparent_;
    std::string tracestate_;
};

/// The options of a call made while handling `req`: its trace context (the request's trace id
/// with a new span id, so the called service logs the same trace) and a deadline derived from
/// the request's remaining budget — the deadline of a middleware::timeout() around the handler,
/// less `margin` for answering, and no later than now + `at_most`.
CallOptions call_from(const Request& req, std::chrono::milliseconds at_most = std::chrono::seconds(30),
                      std::chrono::milliseconds margin = std::chrono::milliseconds(50));

/// Settings of an HttpClient. The defaults are the safe ones.
struct HttpClientOptions {
    /// Resolving the host and opening the connection (with the TLS handshake).
    std::chrono::milliseconds connect_timeout = std::chrono::seconds(5);
    /// Sending the request and reading the whole response, per attempt.
    std::chrono::milliseconds timeout = std::chrono::seconds(30);
    /// Largest response body accepted; a larger one fails with Kind::too_large.
    std::size_t max_response_bytes = 8 * 1024 * 1024;
    /// Largest response header accepted; a larger one fails with Kind::too_large. It bounds
    /// the read buffer too: a connection buffers at most max_header_bytes + 64 KiB of unparsed
    /// input (a chunk header or trailer longer than that fails with Kind::too_large), so one
    /// request holds at most that plus max_response_bytes of body.
    std::size_t max_header_bytes = 64 * 1024;
    /// Redirects followed (301, 302, 303, 307, 308); 0 returns the 3xx response itself. A
    /// redirect from https to http is never followed (Kind::redirects).
    int max_redirects = 0;
    /// Refuse a redirect whose host resolves to an address that is not public (Kind::blocked):
    /// loopback, unspecified, link-local, private (RFC 1918, fc00::/7), shared (100.64/10),
    /// multicast and reserved ranges, and these written as IPv4-mapped IPv6 addresses. The
    /// check runs on the addresses DNS returned, which are the ones connected to, so a name
    /// that resolves to 127.0.0.1 is refused too. A server cannot bounce a request to a
    /// metadata endpoint or an admin port this way (server-side request forgery).
    bool block_private_redirects = true;
    /// The same check for the URL the caller passes. Off by default: calling an internal
    /// service by its private address is what a service's client is for. Turn it on when the
    /// URL comes from a user (webhooks, link previews, imports).
    bool block_private_targets = false;
    /// Idle keep-alive connections kept per scheme://host:port.
    std::size_t max_idle_per_host = 8;
    /// An idle connection older than this is closed rather than reused.
    std::chrono::milliseconds idle_timeout = std::chrono::seconds(30);
    /// Check the server's certificate and name against the system's CA store (and ca_file).
    /// Turn off only for tests against throwaway certificates.
    bool verify_tls = true;
    /// A PEM file of extra trusted CAs (a private CA, say); empty: the system store only.
    std::string ca_file{};
    std::string user_agent = "spur";
    /// Retries of every call (CallOptions::retry replaces it for one). The default tries once.
    RetryPolicy retry{};
    /// A stream read with open() holds at most this much of the body at once: next_chunk()
    /// returns at most this many bytes.
    std::size_t stream_chunk_bytes = 16 * 1024;
    /// The longest line (next_line()) or event (next_event()) accepted; a longer one fails with
    /// Kind::too_large. A stream holds at most one chunk plus one line or event.
    std::size_t max_event_bytes = 1024 * 1024;
};

/// Why a request failed. The message says what and where, never the request's body.
class HttpClientError : public std::runtime_error {
public:
    enum class Kind {
        invalid_url,  ///< not an absolute http:// or https:// URL
        connect,      ///< the name did not resolve, or the connection was refused
        tls,          ///< the handshake failed: an untrusted certificate or the wrong name
        timeout,      ///< connect_timeout or timeout elapsed, or the call's deadline passed
        too_large,    ///< the response header or body exceeded its limit
        protocol,     ///< the peer closed early or sent something that is not HTTP
        redirects,    ///< more than max_redirects, a redirect without a usable Location, or from https to http
        cancelled,    ///< the awaiting coroutine was cancelled (the client of a handler left)
        invalid_request,  ///< a method, header name or value that cannot be sent (CR, LF, NUL…); nothing was sent
        blocked,      ///< the host resolved to a non-public address the options refuse (no connection was made)
    };
    HttpClientError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    Kind kind() const noexcept { return kind_; }

private:
    Kind kind_;
};

/// A response: status, header fields (in order, names as received) and the whole body.
struct ClientResponse {
    int status = 0;
    ClientHeaders headers;
    std::string body;
    /// The first value of header `name` (case-insensitive), or "".
    std::string_view header(std::string_view name) const;
    /// The body parsed as JSON. Throws HttpClientError(Kind::protocol) if it is not JSON.
    boost::json::value json() const;
};

/// A response whose body is read as it arrives (HttpClient::open). Holds its connection until
/// the body has been read to the end (the connection then returns to the pool) or until it is
/// closed or destroyed (the connection is closed, so the server sees the client leave at once).
/// Reading waits at most HttpClientOptions::timeout for each piece and ends by the call's
/// deadline. A read that is cancelled — the awaiting coroutine is, as a handler is when its own
/// client leaves — throws Kind::cancelled and closes the connection. Read the body one way:
/// by chunks, by lines, or by events. Not thread-safe: one coroutine reads it.
class ClientStream {
public:
    ClientStream(ClientStream&&) noexcept;
    ClientStream& operator=(ClientStream&&) noexcept;
    ~ClientStream();

    int status() const noexcept;
    const ClientHeaders& headers() const noexcept;
    /// The first value of header `name` (case-insensitive), or "".
    std::string_view header(std::string_view name) const;

    /// The next piece of the body as it came off the wire (at most stream_chunk_bytes; chunked
    /// framing removed), or "" once the body is complete. Valid until the next call.
    Task<std::string_view> next_chunk();
    /// The next line (NDJSON, say) without its LF or CRLF, or nullopt once the body is complete.
    /// A last line without a line break is returned too. A line over max_event_bytes fails with
    /// Kind::too_large.
    Task<std::optional<std::string>> next_line();
    /// The next server-sent event, parsed as a browser's EventSource does (comments skipped,
    /// `data:` lines joined with LF, an event without data skipped, CR, LF and CRLF all ending
    /// a line), or nullopt once the body is complete. An event over max_event_bytes fails with
    /// Kind::too_large.
    Task<std::optional<Event>> next_event();
    /// The rest of the body, within max_response_bytes.
    Task<std::string> read_all();
    /// Whether the body has been read to its end.
    bool done() const noexcept;
    /// Closes the connection now; further reads return the end of the body.
    void close() noexcept;

    struct Impl;
    explicit ClientStream(std::unique_ptr<Impl> impl) noexcept;

private:
    std::unique_ptr<Impl> impl_;
};

/// An HTTP/1.1 client. One per process (or per service called) is enough: it is thread-safe,
/// and each request runs on the executor of the coroutine awaiting it, so handlers on any I/O
/// thread share it. Every request is bounded by the timeouts and limits of its options, and
/// is cancelled with the coroutine awaiting it. A failure throws HttpClientError; a 4xx or 5xx
/// answer is a ClientResponse, not an error. A request on a pooled connection the server had
/// already closed is sent again on a fresh one when its method is idempotent. Other retries,
/// a deadline and trace context are set per client (HttpClientOptions::retry) or per call
/// (CallOptions, call_from(req)).
class HttpClient {
public:
    using Headers = ClientHeaders;

    explicit HttpClient(HttpClientOptions options = {});
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    /// Sends `method url` with `body` (Content-Length set) and `headers`. A method that is not
    /// a token, a header name that is not a token, or a header value (user_agent included)
    /// holding a control character other than tab — CR and LF would split the request — fails
    /// with Kind::invalid_request before anything is sent.
    Task<ClientResponse> request(std::string method, std::string url, std::string body = {}, Headers headers = {},
                                 CallOptions call = {});
    Task<ClientResponse> get(std::string url, Headers headers = {}, CallOptions call = {});
    /// POSTs `value` as application/json.
    Task<ClientResponse> post_json(std::string url, const boost::json::value& value, Headers headers = {},
                                   CallOptions call = {});
    /// Sends a request as request() does (retries, redirects and limits included) and returns
    /// once the response's header has arrived, with the body still to be read from the stream.
    /// Retries happen only before that: a stream handed to the caller is never sent again.
    /// Fails as request() does.
    Task<ClientStream> open(std::string method, std::string url, std::string body = {}, Headers headers = {},
                            CallOptions call = {});

    /// This client's idle pooled connections on `context` (an io_context): connections belong to
    /// the io_context of the coroutine that opened them and close when it is destroyed, so the
    /// client may outlive it (declared before the App, say).
    std::size_t idle_connections(boost::asio::execution_context& context) const;

    struct Impl;

private:
    static Task<std::unique_ptr<ClientStream::Impl>> open_impl(std::shared_ptr<Impl> impl, std::string method,
                                                               std::string url, std::string body, Headers headers,
                                                               CallOptions call, bool whole_response);
    std::shared_ptr<Impl> impl_;
};

}  // namespace spur
