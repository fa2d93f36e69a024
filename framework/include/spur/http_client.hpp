#pragma once
// spur::HttpClient — calls other HTTP services from handlers: pooled keep-alive connections,
// TLS verified by default, timeouts, cancellation, size limits, redirects on request.

#include <spur/task.hpp>

#include <boost/json/value.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost::asio {
class execution_context;
}

namespace spur {

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
};

/// Why a request failed. The message says what and where, never the request's body.
class HttpClientError : public std::runtime_error {
public:
    enum class Kind {
        invalid_url,  ///< not an absolute http:// or https:// URL
        connect,      ///< the name did not resolve, or the connection was refused
        tls,          ///< the handshake failed: an untrusted certificate or the wrong name
        timeout,      ///< connect_timeout or timeout elapsed
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
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    /// The first value of header `name` (case-insensitive), or "".
    std::string_view header(std::string_view name) const;
    /// The body parsed as JSON. Throws HttpClientError(Kind::protocol) if it is not JSON.
    boost::json::value json() const;
};

/// An HTTP/1.1 client. One per process (or per service called) is enough: it is thread-safe,
/// and each request runs on the executor of the coroutine awaiting it, so handlers on any I/O
/// thread share it. Every request is bounded by the timeouts and limits of its options, and
/// is cancelled with the coroutine awaiting it. A failure throws HttpClientError; a 4xx or 5xx
/// answer is a ClientResponse, not an error. A request on a pooled connection the server had
/// already closed is sent again on a fresh one when its method is idempotent.
class HttpClient {
public:
    using Headers = std::vector<std::pair<std::string, std::string>>;

    explicit HttpClient(HttpClientOptions options = {});
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    /// Sends `method url` with `body` (Content-Length set) and `headers`. A method that is not
    /// a token, a header name that is not a token, or a header value (user_agent included)
    /// holding a control character other than tab — CR and LF would split the request — fails
    /// with Kind::invalid_request before anything is sent.
    Task<ClientResponse> request(std::string method, std::string url, std::string body = {}, Headers headers = {});
    Task<ClientResponse> get(std::string url, Headers headers = {});
    /// POSTs `value` as application/json.
    Task<ClientResponse> post_json(std::string url, const boost::json::value& value, Headers headers = {});

    /// This client's idle pooled connections on `context` (an io_context): connections belong to
    /// the io_context of the coroutine that opened them and close when it is destroyed, so the
    /// client may outlive it (declared before the App, say).
    std::size_t idle_connections(boost::asio::execution_context& context) const;

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace spur
