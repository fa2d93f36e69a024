#pragma once
// spur::Request — one parsed HTTP request as handlers see it.

#include <spur/locals.hpp>
#include <spur/log.hpp>
#include <spur/task.hpp>
#include <spur/trace_context.hpp>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spur {

class App;

namespace detail {
class Wire;  // spur/detail/wire.hpp: the transport's side, for people writing one
struct Route;
struct RequestAccess;
}  // namespace detail

/// An HTTP request: method, target, headers, body, route params and per-request locals.
/// Query and cookies are parsed on first use. Not thread-safe; owned by one coroutine.
class Request {
public:
    /// The underlying Beast message type.
    using Message = boost::beast::http::request<boost::beast::http::string_body>;

    Request();
    /// Wraps a message; remote_address is the peer ("127.0.0.1") and must outlive the request.
    /// With a `wire` (the transport's, which must outlive the request) the body may still be
    /// on it, read when first asked for; without, the message's body is complete.
    explicit Request(Message message, std::string_view remote_address = {}, detail::Wire* wire = nullptr);
    /// The same for a parsed header whose body (if any) is on `wire`: the header moves in once.
    explicit Request(Message::header_type&& header, std::string_view remote_address = {}, detail::Wire* wire = nullptr);
    // Views into the message are handed out; the request stays where it was built.
    Request(const Request&) = delete;
    Request& operator=(const Request&) = delete;

    /// Method as sent, e.g. "GET".
    std::string_view method() const noexcept;
    /// The request target as sent: "/a/b?x=1".
    std::string_view target() const noexcept { return message_.target(); }
    /// The path of the target, still percent-encoded: "/a/b". Absolute-form targets are reduced to their path.
    std::string_view path() const noexcept { return path_; }
    /// The raw query string without '?': "x=1".
    std::string_view query_string() const noexcept { return query_string_; }
    /// HTTP version as 10, 11 or 20 (HTTP/2).
    unsigned version() const noexcept { return message_.version(); }
    /// Whether the client wants the connection kept open after this request.
    bool keep_alive() const { return message_.keep_alive(); }

    /// The decoded value of route parameter `name` (":name" or "*name"), or "" if the route has none.
    std::string_view param(std::string_view name) const noexcept;
    /// All route parameters in path order.
    const std::vector<std::pair<std::string_view, std::string>>& params() const noexcept { return params_; }

    /// The first decoded value of query key `key` ("+" reads as a space), or nullopt.
    std::optional<std::string_view> query(std::string_view key) const;
    /// Every decoded value of a repeated query key, in order ("?tag=a&tag=b").
    std::vector<std::string_view> query_all(std::string_view key) const;

    /// The value of header `name` (case-insensitive), or "" if absent.
    std::string_view header(std::string_view name) const;
    /// Whether header `name` is present.
    bool has_header(std::string_view name) const;
    /// All request headers.
    const boost::beast::http::fields& headers() const noexcept { return message_.base(); }

    /// The decoded value of cookie `name` from the Cookie header, or nullopt.
    std::optional<std::string_view> cookie(std::string_view name) const;

    /// The raw request body, complete once read_body() has run. App::handle runs it just before
    /// the route's handler (except on stream_body() routes and for GET and HEAD, whose bodies
    /// stay on the wire unless the handler awaits read_body(); and after the handler's own
    /// extractors, which await read_body() themselves if they need it), so handlers can use body()
    /// directly; middleware that needs the body awaits read_body() first (json_body() does).
    /// A JSON body of 256 KiB or more is then parsed off the I/O thread (see json()).
    const std::string& body() const noexcept { return message_.body(); }
    std::string& body() noexcept { return message_.body(); }
    /// The body parsed as JSON (parsed once, then cached). Throws HttpError(400, "invalid_json")
    /// if it is not valid JSON or nests deeper than 32. Needs the body read (see body()).
    /// Before a route's handler and in middleware::json_body(), a body of 256 KiB or more
    /// is parsed on the blocking pool, so that this call does not hold up an I/O thread.
    const boost::json::value& json() const;

    /// Reads the whole body into body() unless it is there already, as Express's body parsers
    /// do: a request answered before anything asks for its body (a 401 from an auth guard, say)
    /// is never read, and `100 Continue` is sent only here. The limit is the route's
    /// body_limit() (else the server's max_body_bytes) or `max_bytes`, whichever is smaller.
    /// The buffer grows with the bytes that arrive, not with the declared length. Throws
    /// HttpError(413) past the limit (before reading, when Content-Length says so),
    /// HttpError(400) for broken framing or a client below the minimum transfer rate, and
    /// HttpError(503, "overloaded") when the server's budget for buffered bodies is spent.
    Task<> read_body(std::size_t max_bytes = std::numeric_limits<std::size_t>::max());
    /// Whether part of the body is still unread on the wire.
    bool body_pending() const noexcept { return wire_ != nullptr && !body_done_; }

    /// Reads the next piece of the body. On a buffered route the first call returns the whole
    /// body; on a route with stream_body() each call reads the next chunk from the socket, so
    /// large uploads never sit in memory whole. Returns "" once the body is complete. The view
    /// is valid until the next call. Throws as read_body().
    Task<std::string_view> read_body_chunk();
    /// Whether this request's route takes its body through read_body_chunk() (stream_body()).
    bool body_is_streamed() const noexcept;

    /// The peer address, e.g. "127.0.0.1" or "::1"; "" in the in-process test client unless set.
    std::string_view remote_address() const noexcept { return remote_address_; }
    /// The client's address: remote_address(), unless the peer is a trusted proxy
    /// (ServerOptions::trusted_proxies) — then the right-most address in X-Forwarded-For or
    /// Forwarded that is not itself a trusted proxy. Headers from other peers are ignored.
    std::string_view ip() const noexcept { return ip_.empty() ? remote_address_ : std::string_view(ip_); }
    /// "https" or "http": how the client reached the server (X-Forwarded-Proto or Forwarded's
    /// proto= when the peer is a trusted proxy).
    std::string_view protocol() const noexcept { return secure_ ? "https" : "http"; }
    /// Whether protocol() is "https".
    bool secure() const noexcept { return secure_; }
    /// Sets what ip() ("" means remote_address()), protocol() and secure() report. The server
    /// calls it for every request; tests may.
    void set_client(std::string ip, bool secure) {
        ip_ = std::move(ip);
        secure_ = secure;
    }

    /// Per-request storage for middleware to pass data to handlers (e.g. the authenticated user).
    Locals& locals() noexcept { return locals_; }
    const Locals& locals() const noexcept { return locals_; }

    /// The underlying Beast message, for anything this class does not cover.
    Message& message() noexcept { return message_; }
    const Message& message() const noexcept { return message_; }

    /// This request's id: the one middleware::request_id() set (a sane incoming X-Request-Id,
    /// or a UUID), else a random UUID made on first use. Error bodies and req.log() carry it.
    std::string_view id() const;
    /// Sets the id (middleware::request_id() does).
    void id(std::string value) { id_ = std::move(value); }
    /// Whether the request has an id yet (set, or made by an earlier id()).
    bool has_id() const noexcept { return !id_.empty(); }
    /// Logging for this request through its app's sink; every record carries id() and
    /// trace().trace_id_hex(). Throws std::logic_error for a request that no App is handling.
    RequestLog log() const;

    /// This request's W3C trace context, made on first use: adopted from a valid `traceparent`
    /// header (with its `tracestate` headers, joined, when valid) with a span id of its own,
    /// else a new trace (TraceContext::start()) — also when `traceparent` is sent twice, as the
    /// spec asks. Nothing is parsed or drawn for a request that never asks. Error bodies,
    /// req.log() records and outgoing calls (spur::call_from) carry it.
    const TraceContext& trace() const;
    /// Sets the trace context, e.g. `req.trace(spur::TraceContext::start())` in a middleware
    /// that does not trust its callers' traces.
    void trace(TraceContext context) { trace_ = std::move(context); }
    /// Whether the request has a trace context yet (set, or made by an earlier trace()).
    bool has_trace() const noexcept { return trace_.has_value(); }

    /// The App handling this request (Express's req.app): its log and its extensions, e.g.
    /// `spur::spawn(req.app(), task)`. Throws std::logic_error for a request that no App is handling.
    App& app() const;

    /// The pattern of the matched route ("/api/texts/:id"), or "" for 404/405 — for metrics and logs.
    std::string_view route_pattern() const noexcept { return pattern_; }
    /// Whether a client that leaves cancels this request's handling: true unless its route
    /// chose RouteConfig::run_to_completion(). The server asks when it sees the client go.
    bool cancels_on_disconnect() const noexcept;

private:
    friend struct detail::RequestAccess;
    void split_target() noexcept;
    void parse_query() const;
    void parse_cookies() const;
    std::size_t body_limit(std::size_t max_bytes) const noexcept;

    Message message_;
    std::string_view remote_address_;
    std::string ip_;
    bool secure_ = false;
    std::string_view path_;
    std::string_view query_string_;
    std::vector<std::pair<std::string_view, std::string>> params_;
    mutable std::optional<std::vector<std::pair<std::string, std::string>>> query_;
    mutable std::optional<std::vector<std::pair<std::string, std::string>>> cookies_;
    Locals locals_;
    const detail::Route* route_ = nullptr;  // the matched route, set by App::handle before middleware
    std::string_view pattern_;              // its pattern
    App* app_ = nullptr;                    // set by App::handle and Serving::refuse
    mutable std::string id_;                // made on first use when no middleware set one
    mutable std::optional<TraceContext> trace_;  // made on first use, like id_
    detail::Wire* wire_ = nullptr;          // the transport, while the body may be on it
    bool body_done_ = false;             // the source has delivered the whole body
    bool whole_body_given_ = false;      // read_body_chunk() handed out the buffered body
    mutable std::optional<boost::json::value> json_;
};

}  // namespace spur
