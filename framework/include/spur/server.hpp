#pragma once
// spur::Server — serves an App over HTTP/1.1 and HTTP/2 with limits, timeouts and graceful shutdown.

#include <spur/app.hpp>
#include <spur/tls.hpp>
#include <spur/websocket.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace spur {

/// Which forwarding header trusted proxies set (ServerOptions::forwarded_header).
enum class ForwardedHeader {
    x_forwarded_for,  ///< X-Forwarded-For and X-Forwarded-Proto
    forwarded,        ///< RFC 7239 Forwarded (for=, proto=)
};

/// HTTP/2 (RFC 9113) on the same App (ServerOptions::http2), spoken through nghttp2 when spur
/// is built with SPUR_WITH_HTTP2 (the default). Each stream is a Request handled like an
/// HTTP/1.1 one; the HTTP/1.1 limits of ServerOptions apply per stream (max_header_bytes and
/// max_header_fields -> 431, max_request_line bounds :path -> 414, body limits, timeouts).
/// A client past a flood limit gets GOAWAY with ENHANCE_YOUR_CALM and its connection closes.
struct Http2Options {
    /// Offer "h2" by ALPN on the TLS listener; a client that does not ask for it, or a spur
    /// built without HTTP/2, speaks HTTP/1.1 there.
    bool tls = true;
    /// Recognise the HTTP/2 connection preface on the plain listener (h2c by prior knowledge):
    /// one port serves HTTP/1.1 and h2c. Off by default: cleartext HTTP/2 belongs behind a
    /// proxy that speaks it. Server's constructor throws std::invalid_argument when spur was
    /// built without HTTP/2.
    bool cleartext = false;
    /// Streams one connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). A stream
    /// past it is refused (RST_STREAM REFUSED_STREAM) while the client has not acknowledged the
    /// setting; after that it breaks the protocol, and nghttp2 ends the connection (GOAWAY
    /// PROTOCOL_ERROR).
    std::uint32_t max_concurrent_streams = 100;
    /// Request-body bytes one stream may send before its handler reads them (the stream's
    /// flow-control window): a slow handler slows its own stream only. A connection holds at
    /// most max_concurrent_streams times this much of unread bodies, counted against
    /// max_buffered_body_bytes as well.
    std::uint32_t stream_window = 64 * 1024;
    /// The HPACK dynamic table each side may keep (SETTINGS_HEADER_TABLE_SIZE), bytes.
    std::uint32_t header_table_size = 4096;
    /// Streams the client may reset (RST_STREAM) at once, and then per second: past it the
    /// connection ends (the rapid reset attack, CVE-2023-44487).
    std::uint32_t reset_burst = 200;
    std::uint32_t resets_per_second = 50;
    /// Frames that carry no request — SETTINGS, PING, PRIORITY, empty DATA, and WINDOW_UPDATEs
    /// beyond two per DATA frame sent — the client may send at once, and then per second
    /// (SETTINGS, PING, window-update and empty-frame floods).
    std::uint32_t control_burst = 1000;
    std::uint32_t control_per_second = 200;
    /// CONTINUATION frames one header block may span at most; a block is also bounded by
    /// max_request_line + max_header_bytes of encoded bytes (the CONTINUATION flood of 2024).
    std::uint32_t max_continuations = 8;
};

/// Server settings. Every default is safe for a public-facing server.
struct ServerOptions {
    std::string host = "0.0.0.0";            ///< address to bind; "::" for IPv6
    unsigned short port = 3000;              ///< 0 picks a free port; see Server::port()
    unsigned threads = 0;                    ///< I/O threads; 0 = hardware threads
    unsigned blocking_threads = 0;           ///< threads for spur::offload; 0 = hardware threads
    /// Jobs queued or running in spur::offload at most; past it offload() throws
    /// HttpError(503, "overloaded") (a flood of password hashes must not queue without bound).
    std::size_t max_blocking_queue = 1024;
    std::size_t max_request_line = 8 * 1024;   ///< longer request line -> 414
    std::size_t max_header_bytes = 16 * 1024;  ///< larger header block -> 431
    std::size_t max_header_fields = 100;       ///< more header fields -> 431 (Kestrel's default)
    /// Larger body -> 413 (before a byte of it is read when Content-Length says so); routes
    /// raise or lower it with body_limit(). Express's body parsers default to 100 KiB too.
    std::size_t max_body_bytes = 100 * 1024;
    /// Request bodies held in memory by every connection together (buffered reads, growing
    /// with the bytes that arrived, never with a declared length) at most; a read that would
    /// go beyond answers 503 "overloaded". The first 16 KiB of each body are not counted (they
    /// are part of a connection's own bound), so small bodies never meet it. 0 = no budget.
    std::size_t max_buffered_body_bytes = 64 * 1024 * 1024;
    /// The part of max_buffered_body_bytes one client address (an IPv6 client by its /64) may
    /// hold, so that one client cannot refuse everyone's uploads; past it that client's read
    /// answers 503 "overloaded". Clients exempt from max_connections_per_ip (trusted proxies,
    /// unix sockets, or all when that cap is 0) count against the total only. 0 = no share.
    std::size_t max_buffered_body_bytes_per_ip = 16 * 1024 * 1024;
    std::chrono::milliseconds header_timeout{10'000};  ///< whole header must arrive within this
    /// Request bodies and responses must move at least this many bytes per second: each byte
    /// moved earns 1/min_transfer_rate seconds, and a transfer may fall behind by at most
    /// body_timeout (reads) or write_timeout (writes) — also the longest a client may stall
    /// outright. A client below the rate is dropped. 0 = no rate: each read or write then
    /// gets body_timeout / write_timeout whatever it moved.
    std::size_t min_transfer_rate = 16 * 1024;
    std::chrono::milliseconds body_timeout{10'000};    ///< a body read's allowance; see min_transfer_rate
    std::chrono::milliseconds idle_timeout{30'000};    ///< keep-alive wait for the next request
    std::chrono::milliseconds write_timeout{10'000};   ///< a response write's allowance; see min_transfer_rate
    std::chrono::milliseconds drain_timeout{10'000};   ///< graceful shutdown waits this long
    /// Between a shutdown's start — readiness turns 503 (Extensions::draining()) and systemd hears
    /// STOPPING=1 — and the listeners closing: long enough for a load balancer's probe to
    /// see the 503 and stop routing here (its interval times its failure threshold).
    std::chrono::milliseconds drain_delay{0};
    bool handle_signals = true;              ///< SIGINT/SIGTERM start a graceful shutdown
    /// HTTPS on tls->port, beside plain HTTP on `port` (same app, limits and timeouts).
    std::optional<TlsOptions> tls;
    bool plain = true;                       ///< false: no plain TCP listener (TLS or unix socket only)
    /// Also serve plain HTTP on this unix-domain socket path (a stale socket file there is
    /// replaced; the file is removed again on shutdown). Clients are exempt from the
    /// per-client cap and their remote_address() is "unix".
    std::string unix_path;
    unsigned unix_mode = 0660;               ///< permissions of unix_path (the proxy's group can connect)
    /// systemd integration, active only when systemd set the variables: listening sockets
    /// passed by socket activation (LISTEN_FDS) replace binding host/port — one named
    /// "https" or "tls" (FileDescriptorName=) serves TLS, any other plain HTTP, TCP or unix —
    /// and READY=1 / STOPPING=1 / WATCHDOG=1 go to NOTIFY_SOCKET (Type=notify, WatchdogSec=).
    bool systemd = true;
    WebSocketOptions websocket;              ///< limits of every ws route
    /// Reverse proxies whose forwarding header is believed ("10.0.0.0/8", "::1",
    /// "2001:db8::/32", and "unix" for a proxy connecting through unix_path); default none.
    /// See Request::ip(). A malformed entry makes Server's constructor throw std::invalid_argument.
    std::vector<std::string> trusted_proxies;
    /// The one header the trusted proxies set: X-Forwarded-For (with X-Forwarded-Proto, the
    /// default: nginx, HAProxy, cloud balancers) or RFC 7239 Forwarded. The other is ignored,
    /// so a client cannot pass its own copy of a header the proxy does not rewrite.
    ForwardedHeader forwarded_header = ForwardedHeader::x_forwarded_for;
    /// Open connections at most (plain, TLS and WebSocket together). At the cap an idle
    /// keep-alive connection is closed to make room; with none idle, the new one is closed
    /// unanswered. The soft RLIMIT_NOFILE is raised towards it at start() if the hard limit allows.
    std::size_t max_connections = 10'000;
    /// Open connections per client address (an IPv6 client by its /64) at most; past it new
    /// ones are closed unanswered. Trusted proxies are exempt. 0 = no per-client cap.
    std::size_t max_connections_per_ip = 256;
    /// HTTP/2 over TLS (by ALPN, on by default) and cleartext (h2c, off by default).
    Http2Options http2;
};

/// Serves an App over HTTP and/or HTTPS. start() binds; run() blocks serving on the I/O
/// threads until shutdown() (or a signal) has drained every connection. On shutdown,
/// WebSocket connections are closed with 1001 (going away).
class Server {
public:
    /// The app must outlive the server; its routes are frozen by start(). Throws
    /// std::invalid_argument for a malformed trusted_proxies entry.
    explicit Server(App& app, ServerOptions options = {});
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Binds (or takes the sockets systemd passed), starts accepting and the app's background
    /// tasks, and tells systemd READY=1; returns the bound plain port (the TLS port if
    /// `plain` is false; 0 for a unix socket only). Throws std::system_error if binding
    /// fails and std::invalid_argument for unusable TLS settings (unreadable certificate,
    /// mismatched key), a socket named "https" without `tls`, or nothing to listen on.
    unsigned short start();
    /// Runs the I/O threads (the caller is one of them) until shutdown completes.
    void run();
    /// Begins a graceful shutdown: readiness turns 503 at once; after drain_delay stop
    /// accepting, close idle connections, end event streams and cancel background tasks,
    /// let in-flight requests finish within drain_timeout, then close the rest. Safe from
    /// any thread.
    void shutdown();
    /// The bound plain HTTP port (after start()); 0 if `plain` is false.
    unsigned short port() const noexcept;
    /// The bound TLS port (after start()); 0 without TLS.
    unsigned short tls_port() const noexcept;
    /// Where the server listens (after start()), one entry per listening socket, read from the
    /// socket itself — so also right for sockets systemd passed: `http://127.0.0.1:3000`,
    /// `https://[::]:3443`, `unix:/run/app.sock`.
    std::vector<std::string> urls() const;

    /// Connection counters, for metrics.
    struct Stats {
        std::size_t open_connections = 0;        ///< now
        std::uint64_t refused_connections = 0;   ///< closed at accept: a cap was reached
        std::uint64_t shed_connections = 0;      ///< idle keep-alive connections closed to make room
        std::size_t websocket_sessions = 0;      ///< connections speaking WebSocket now
        /// Request-body buffer bytes held now (counted against max_buffered_body_bytes).
        std::size_t buffered_body_bytes = 0;
    };
    /// A snapshot of the counters; safe from any thread.
    Stats stats() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace spur
