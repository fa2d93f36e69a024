#include "server/connection.hpp"

#include "server/finish.hpp"
#include "server/client_address.hpp"
#include "server/exchange.hpp"
#include "server/framing.hpp"
#include "server/pace.hpp"
#include "server/pipeline.hpp"
#include "server/transport.hpp"
#include "server/websocket/session.hpp"
#include "server/writer.hpp"

#include <spur/http_error.hpp>
#include <spur/serving.hpp>
#include <spur/detail/wire.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <limits>

namespace spur::detail {

namespace {

// Reads fill what the buffer already holds, at least min_read: an idle keep-alive connection
// then keeps a buffer the size of its requests so far, not a fixed large block.
constexpr std::size_t min_read = 1024;
// An idle keep-alive connection waits with a buffer of this size (what Beast's own reads
// start with): 10,000 idle connections are then 5 MiB lighter than with min_read. One whose
// last requests took more (a pipelining client's batch) keeps its buffer up to kept_read,
// so that each batch still arrives in one read.
constexpr std::size_t idle_read = 512;
constexpr std::size_t kept_read = 4 * 1024;
constexpr std::size_t max_read = 16 * 1024;
constexpr std::chrono::milliseconds linger_time{2000};
constexpr std::chrono::milliseconds linger_time_draining{250};
constexpr std::chrono::seconds refusal_write_timeout{5};
// An unread body up to this size is read and dropped after the response so the connection
// can be kept; a larger one (or one of unknown size) closes the connection instead.
constexpr std::uint64_t discard_budget = 64 * 1024;
constexpr std::size_t chunk_size = 16 * 1024;
// A buffered body starts at most this large and doubles as bytes arrive, never past what the
// request declared or the route allows: memory follows the bytes received, not the client's
// word (a Content-Length of 1 MiB with nothing behind it held 1 MiB for the body timeout).
constexpr std::size_t initial_body_capacity = 16 * 1024;

using Parser = RequestParser;

// Whether the peer of a readable socket has closed (or reset) it, as opposed to sending more
// bytes — a pipelined request, or a TLS record. A clean TLS close sends close_notify before
// its FIN; it counts once the FIN is there (POLLRDHUP), which is usually at the same moment.
bool peer_closed(int fd) {
    char byte;
    const auto n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
    pollfd p{fd, POLLRDHUP, 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

class Connection;

// The body of one request as it arrives on the wire: read when the app first asks for it
// (Request::read_body / read_body_chunk), under the route's limit and the body timeout.
class WireBody final : public Wire {
public:
    WireBody(Connection& c, Parser& parser) noexcept;
    ~WireBody();
    WireBody(const WireBody&) = delete;
    WireBody& operator=(const WireBody&) = delete;

    bool body_complete() const noexcept override { return parser_.is_done(); }
    std::size_t default_limit() const noexcept override;
    Task<std::string_view> next(std::size_t limit) override;
    Task<> read_all(std::string& out, std::size_t limit) override;
    MemoryBudget memory_budget() const noexcept override;
    void handling_suspends() noexcept override;
    bool upgrade(std::shared_ptr<const WsHandler> handler) noexcept override;

    /// Whether the whole body has been read off the wire.
    bool complete() const noexcept { return parser_.is_done(); }
    /// Whether the connection can be reused without reading the rest: false after a read
    /// failed, when 100-continue was expected but never sent (the client may or may not send
    /// the body now), or when what is left is too large or of unknown size to drop cheaply.
    bool can_discard_rest() const noexcept;
    /// Reads and drops the rest of the body; false if that failed.
    Task<bool> discard_rest();

private:
    void start(std::size_t limit);
    // Fills up to `room` bytes at `dst` with body bytes; 0 at the end of the body.
    Task<std::size_t> pump(char* dst, std::size_t room);
    // Reads more of the request into the connection's buffer, under the minimum rate.
    Task<> read_more();
    // Gives `out` room for `more` bytes: doubling, but never beyond `most`, and counted
    // against the server's budget for buffered bodies.
    void grow(std::string& out, std::size_t more, std::size_t most);
    [[noreturn]] void fail(int status, const char* code, const char* message);

    Connection& c_;
    Parser& parser_;
    Pace pace_;  // the body's minimum rate, counted only while a read waits on the client
    bool started_ = false;
    bool failed_ = false;
    std::uint64_t received_ = 0;
    std::size_t charged_ = 0;  // bytes of body buffer counted in the server's (and client's) budget
};

// The wire of a request whose body came with its header (or that has none): nothing is left
// to read. One per connection, outliving each request — a held pipelined response's request
// is still asked for its wire by finish hooks after serve_one's frame, and its WireBody, are gone.
class WholeBody final : public Wire {
public:
    explicit WholeBody(Connection& c) noexcept : c_(c) {}
    bool body_complete() const noexcept override { return true; }
    std::size_t default_limit() const noexcept override;
    Task<std::string_view> next(std::size_t) override { co_return std::string_view{}; }
    Task<> read_all(std::string&, std::size_t) override { co_return; }
    // memory_budget() counts nothing: such a body was never buffered here (it sits in the
    // header's read buffer), and its JSON tree stays small.
    void handling_suspends() noexcept override;
    bool upgrade(std::shared_ptr<const WsHandler> handler) noexcept override;

private:
    Connection& c_;
};

class Connection final {
public:
    Connection(ServerContext& server, ConnectionState& state, Transport& transport)
        : server_(server), options_(server.options), state_(state), transport_(transport), tcp_(transport.tcp()),
          // Bounded: an oversized chunk line or trailer fails as a malformed body instead of
          // growing memory.
          buffer_(options_.max_request_line + options_.max_header_bytes + 8 * 1024) {
        transport.min_write_rate(options_.min_transfer_rate);
        if (state.local) {
            remote_ = "unix";
            return;
        }
        boost::system::error_code ec;
        auto endpoint = tcp_.socket().remote_endpoint(ec);
        if (!ec) remote_ = endpoint.address().to_string();
        // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; logs, limits and
        // trusted-proxy lists speak of them as a.b.c.d.
        if (remote_.starts_with("::ffff:"))
            if (auto address = parse_ip(remote_); address && address->v4) remote_ = to_string(*address);
    }

    /// Serves the connection until it ends. The loop runs in the coroutine that owns the
    /// Connection, and waits for the next request itself: an idle connection keeps no
    /// coroutine frame beyond this one and Asio's read.
    static Task<> serve(ServerContext& server, ConnectionState& state, Transport& transport) {
        Connection c(server, state, transport);
        bool first = true;
        for (;;) {
            if (c.buffer_.size() == 0) {  // else a pipelined request is already here
                if (!c.pipeline_.empty() && !co_await c.flush_pipeline()) break;
                if (!c.begin_wait(first)) break;
                boost::system::error_code ec;
                const std::size_t want = first ? min_read : std::max(idle_read, c.buffer_.capacity());
                const std::size_t n = co_await transport.read_some(c.buffer_.prepare(want), ec);
                c.buffer_.commit(n);
                c.received_ = n;
                state.idle.store(false, std::memory_order_relaxed);
                if (ec) break;
            }
            first = false;
            Step step = co_await c.serve_one();
            if (step == Step::keep_alive) continue;
            if (step == Step::linger) {
                co_await transport.close_gracefully(server.stopping.load(std::memory_order_relaxed) ? linger_time_draining
                                                                                                   : linger_time);
            }
            break;
        }
        boost::system::error_code ec;
        c.tcp_.socket().close(ec);
    }

private:
    friend class WireBody;
    friend class WholeBody;
    enum class Step { keep_alive, linger, close };

    std::size_t free_space() const { return buffer_.max_size() - buffer_.size(); }

    std::string_view buffered() const {
        auto data = buffer_.data();
        return {static_cast<const char*>(data.data()), data.size()};
    }

    Task<std::size_t> read_some(boost::system::error_code& ec) {
        const std::size_t want = std::clamp(buffer_.capacity() - buffer_.size(), min_read, max_read);
        auto n = co_await transport_.read_some(buffer_.prepare(std::min(want, free_space())), ec);
        buffer_.commit(n);
        received_ += n;
        co_return n;
    }

    // Prepares the wait for the first byte of the next request (the buffer is empty); false
    // means close quietly: the server is draining. A new connection's first request is
    // served even while draining: the client connected before the listener closed (or it
    // queued in the kernel), and dropping it unanswered would lose a request that a restart
    // with socket activation promises to keep. The peer leaving or the idle timeout end the
    // read that follows.
    bool begin_wait(bool first) {
        if (!first && server_.stopping.load(std::memory_order_relaxed)) return false;
        state_.idle.store(true, std::memory_order_relaxed);
        if (!first) state_.fresh.store(false, std::memory_order_relaxed);
        tcp_.expires_after(first ? options_.header_timeout : options_.idle_timeout);
        if (!first) {
            // Memory an idle connection does not need: a read buffer larger than idle_read
            // (it is empty: this frees it) and the last response's head.
            const bool busy = received_ > idle_read && buffer_.capacity() <= kept_read;
            if (buffer_.capacity() > idle_read && !busy) buffer_.shrink_to_fit();
            std::string().swap(head_);
        }
        return true;
    }

    Task<Step> serve_one() {
        // 1. The header block, scanned by spur before Beast sees it.
        HeaderScanner scanner(options_.max_request_line, options_.max_header_bytes, options_.max_header_fields);
        bool deadline_set = false;  // only once a read is needed: pipelined headers are already here
        for (;;) {
            auto state = scanner.scan(buffered());
            if (state == HeaderScanner::State::complete) break;
            if (state == HeaderScanner::State::rejected)
                co_return co_await refuse(scanner.rejection(), scanner.request_line(buffered()));
            if (free_space() == 0) {
                const Rejection too_large{431, "headers_too_large", "Request header fields too large"};
                co_return co_await refuse(too_large, scanner.request_line(buffered()));
            }
            if (!pipeline_.empty()) {
                if (!co_await flush_pipeline()) co_return Step::close;
                deadline_set = false;
            }
            if (!deadline_set) {
                tcp_.expires_after(options_.header_timeout);
                deadline_set = true;
            }
            boost::system::error_code ec;
            co_await read_some(ec);
            // tcp_stream closes the socket when its deadline passes, so a slow client is
            // dropped without an answer (as nginx does).
            if (ec) co_return Step::close;
        }

        // 2. Beast parses the header; spur checks what Beast lets through.
        auto exchange = Exchange::make();
        auto& parser = exchange->parser;
        parser.header_limit(std::numeric_limits<std::uint32_t>::max());  // the scanner enforces limits
        parser.body_limit(boost::none);  // the route's limit applies once something reads the body
        boost::system::error_code ec;
        auto view = buffered();
        parser.put(net::buffer(view.data() + scanner.begin(), scanner.end() - scanner.begin()), ec);
        const auto request_line = scanner.request_line(view);
        if (ec || !parser.is_header_done()) {
            const Rejection malformed{400, "bad_request", "Malformed request header"};
            co_return co_await refuse(malformed, request_line, scanner.end());
        }
        buffer_.consume(scanner.end());
        auto& message = parser.get();
        auto rejection = check_framing(message.base());
        if (!rejection && !parser.is_done()) {
            if (auto expect = message[http::field::expect]; !expect.empty() && !beast::iequals(expect, "100-continue"))
                rejection = {417, "expectation_failed", "Unsupported Expect header"};
        }
        if (rejection) co_return co_await refuse(rejection, {}, 0, &message.base());

        // 3. The app, with the body left on the wire until something asks for it. The
        //    header moves into the Request; chunked trailers land in the parser's moved-from
        //    header, never in the Request's (an Authorization trailer must not authenticate).
        WireBody body(*this, parser);
        expect_continue_ = message.version() == 11 && !message[http::field::expect].empty();
        continue_sent_ = false;
        Wire* wire = parser.is_done() ? static_cast<Wire*>(&whole_body_) : &body;
        auto& req = exchange->request.emplace(Request::Message(std::move(message.base())), remote_, wire);
        resolve_client(req, server_.trusted_proxies, options_.forwarded_header, transport_.secure());
        auto& res = exchange->response.emplace();
        state_.request = &req;
        body_complete_ = parser.is_done();
        upgrade_.reset();  // only the route handling this request may ask for an upgrade
        co_await server_.app.handle(req, res);
        unwatch_peer();
        if (state_.peer_gone) {
            // Cancelled (or, with run_to_completion(), finished) for nobody: nothing to write.
            co_await net::this_coro::reset_cancellation_state();
            co_await flush_pipeline();
            res.status(499);
            run_finish_hooks(req, res, server_.app.log());
            co_return Step::close;
        }
        if (res.status() == 101 && upgrade_) co_return co_await upgrade(req, res, std::move(upgrade_));

        // 4. The response. Keep-alive also needs the body consumed, or the next "request"
        //    would start inside it.
        const bool drain = !body.complete() && body.can_discard_rest();
        const bool keep_alive = req.keep_alive() && (body.complete() || drain) &&
                                !server_.stopping.load(std::memory_order_relaxed);
        auto framing = finish_response(res, req.version(), req.method() == "HEAD", keep_alive);
        if (buffer_.size() > 0 && body_complete_ && pipeline_.can_hold(res, framing)) {
            // The next request is already here (pipelined): this response goes out with the
            // next one's. A request that had a body is not held: its WireBody ends here.
            pipeline_.hold(std::move(exchange), framing);
            state_.fresh.store(false, std::memory_order_relaxed);
            co_return Step::keep_alive;
        }
        auto write_ec = co_await write_response(transport_, res, framing, options_.write_timeout, server_.app.log(), req,
                                                head_, pipeline_.unsent());
        pipeline_.finish(write_ec, server_.app.log());
        Step step = finished(req, res, write_ec, framing.keep_alive);
        if (step == Step::keep_alive && drain && !co_await body.discard_rest()) step = Step::close;
        co_return step;
    }

    // While the handler runs nothing reads the socket, so a client that gives up would go
    // unnoticed until the write. Once the request is fully read, a wait for readability
    // tells: end of stream (or a reset) means the client left, and the request's coroutine
    // is cancelled unless its route opted out. Other bytes (a pipelined request) end the watch.
    void watch_peer() { watch_peer(state_.shared_from_this()); }

    static void watch_peer(std::shared_ptr<ConnectionState> state) {
        if (state->watching || state->peer_gone || !state->request) return;
        state->watching = true;
        auto& socket = state->tcp.socket();
        socket.async_wait(net::socket_base::wait_read, [state = std::move(state)](boost::system::error_code ec) {
            if (ec == net::error::operation_aborted) return;  // unwatch_peer()
            state->watching = false;
            if (ec || !state->request || !peer_closed(state->tcp.socket().native_handle())) return;
            state->peer_gone = true;
            if (state->request->cancels_on_disconnect()) state->cancel.emit(net::cancellation_type::terminal);
        });
    }

    // A request with its body already read is watched once its handling has really waited:
    // most coroutine middleware and handlers finish within the current turn of the event
    // loop, and for them the wait-and-cancel on the socket would cost more than the request
    // (2 µs of 18 on the routed benchmark). One posted check is cheap; it arms the watch only
    // if the same request is still being handled. One whose body is still on the wire is
    // watched once WireBody has read it.
    //
    // Held pipelined responses go out at the same moment where the socket takes them at once
    // (plain TCP): the client should not wait for them while a later request of its batch
    // waits on a database. The connection (`this`) is alive while its request is handled.
    void handling_suspends() noexcept {
        if (!body_complete_ && pipeline_.empty()) return;
        net::post(tcp_.get_executor(), [this, state = state_.shared_from_this(), request = state_.request] {
            if (state->request != request) return;
            if (body_complete_) watch_peer(state);
            send_held_now();
        });
    }

    void send_held_now() noexcept {
        if (pipeline_.empty() || flushing_) return;
        boost::system::error_code ec;
        const std::array<net::const_buffer, 1> held{pipeline_.unsent()};
        pipeline_.sent(transport_.write_now(held, ec));
        if (!ec && pipeline_.all_sent()) pipeline_.finish(ec, server_.app.log());
    }

    // Writes the held pipelined responses and runs their finish hooks; false if the
    // connection must close. Called before anything waits for the client: it may be waiting
    // for those answers before it sends more.
    Task<bool> flush_pipeline() {
        if (pipeline_.empty()) co_return true;
        boost::system::error_code ec;
        if (!pipeline_.all_sent()) {
            flushing_ = true;
            const std::array<net::const_buffer, 1> buffers{pipeline_.unsent()};
            co_await transport_.write(buffers, ec, options_.write_timeout);
            flushing_ = false;
        }
        pipeline_.finish(ec, server_.app.log());
        co_return !ec;
    }

    void unwatch_peer() {
        state_.request = nullptr;
        if (!state_.watching) return;
        state_.watching = false;
        boost::system::error_code ec;
        tcp_.socket().cancel(ec);
    }

    // Runs the finish hooks once the bytes are out (or the client left: 499), then picks
    // how the connection goes on.
    Step finished(const Request& req, Response& res, boost::system::error_code write_ec, bool keep_alive) {
        if (write_ec) res.status(499);
        run_finish_hooks(req, res, server_.app.log());
        if (write_ec) return Step::close;
        return keep_alive ? Step::keep_alive : Step::linger;
    }

    // What is known of a request refused before its header parsed: method and target when
    // the request line itself was sound, so the access log can still say what was asked.
    static Request::Message partial_header(std::string_view request_line) {
        Request::Message m;
        m.version(11);
        auto sp1 = request_line.find(' ');
        auto sp2 = sp1 == std::string_view::npos ? sp1 : request_line.find(' ', sp1 + 1);
        if (sp2 == std::string_view::npos) return m;
        auto method = request_line.substr(0, sp1);
        auto target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
        const bool sound = !method.empty() && !target.empty() &&
                           std::all_of(method.begin(), method.end(), [](char c) { return c >= 'A' && c <= 'Z'; }) &&
                           std::all_of(target.begin(), target.end(),
                                       [](char c) { return static_cast<unsigned char>(c) > 0x20 && c != 0x7F; });
        if (sound) {
            m.method_string(method);
            m.target(target);
        }
        return m;
    }

    // Answers a request spur refuses before routing, through the app's own error path
    // (global middleware, on_error, logs, metrics), then closes: after a framing error the
    // rest of the stream cannot be trusted. The request is the `parsed` header, or what
    // `request_line` tells when the header did not parse; then `consume` bytes of the
    // buffer are dropped (request_line points into them). The header is built here rather
    // than by the caller: serve_one's coroutine frame stays small enough for Asio to recycle.
    Task<Step> refuse(Rejection rejection, std::string_view request_line, std::size_t consume = 0,
                      http::request_header<>* parsed = nullptr) {
        Request req(parsed ? Request::Message(std::move(*parsed)) : partial_header(request_line), remote_);
        buffer_.consume(consume);
        resolve_client(req, server_.trusted_proxies, options_.forwarded_header, transport_.secure());
        Response res;
        const HttpError error(rejection.status, rejection.code, rejection.message);
        co_await Serving(server_.app).refuse(req, res, error);
        auto framing = finish_response(res, 11, false, false);
        auto timeout = std::min<std::chrono::milliseconds>(options_.write_timeout, refusal_write_timeout);
        auto ec = co_await write_response(transport_, res, framing, timeout, server_.app.log(), req, head_,
                                          pipeline_.unsent());
        pipeline_.finish(ec, server_.app.log());
        co_return finished(req, res, ec, false);
    }

    // Hands the connection to a ws route's handler; the connection ends with it.
    Task<Step> upgrade(Request& req, Response& res, std::shared_ptr<const WsHandler> handler) {
        // RFC 6455 clients wait for the 101 before sending frames; bytes already here would
        // be frames Beast never sees, so such a client is dropped.
        std::shared_ptr<WsSession> session;
        const bool flushed = co_await flush_pipeline();  // the answers before it go first
        if (flushed && buffer_.size() == 0) {
            tcp_.expires_never();  // the WebSocket layer runs its own handshake and idle timers
            session = co_await transport_.accept_websocket(req.message(), res, options_.websocket, server_.app.log());
        }
        if (!session) res.status(499);
        run_finish_hooks(req, res, server_.app.log());
        if (!session) co_return Step::close;
        state_.websocket = session;
        if (server_.stopping.load(std::memory_order_relaxed)) session->close(WsCloseCode::going_away, "server shutting down");
        struct Counted {  // counted while it runs, however it ends
            std::atomic<std::size_t>& n;
            explicit Counted(std::atomic<std::size_t>& c) : n(c) { n.fetch_add(1, std::memory_order_relaxed); }
            ~Counted() { n.fetch_sub(1, std::memory_order_relaxed); }
        } counted(server_.websocket_sessions);
        co_await session->run(*handler, req);
        state_.websocket.reset();
        co_return Step::close;
    }

    // `100 Continue`, sent the first time something asks for a body the client holds back.
    Task<> send_continue() {
        if (!expect_continue_ || continue_sent_) co_return;
        continue_sent_ = true;
        static constexpr std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
        boost::system::error_code ec;
        const std::array<net::const_buffer, 1> buffers{net::buffer(interim.data(), interim.size())};
        co_await transport_.write(buffers, ec, options_.write_timeout);
        if (ec) throw HttpError(400, "bad_request", "Request body could not be read");
    }

    char* chunk_buffer() {
        if (!chunk_) chunk_ = std::make_unique<char[]>(chunk_size);
        return chunk_.get();
    }

    ServerContext& server_;
    const ServerOptions& options_;
    ConnectionState& state_;
    Transport& transport_;
    beast::tcp_stream& tcp_;
    beast::flat_buffer buffer_;
    std::string head_;  // the response header block, reused across requests
    WholeBody whole_body_{*this};  // before pipeline_: its held requests point at it
    Pipeline pipeline_;  // responses held until the pipelined requests after them are answered
    std::string remote_;
    std::unique_ptr<char[]> chunk_;  // read_body_chunk()'s buffer, made on first use
    std::size_t received_ = 0;       // bytes read since the connection last waited for a request
    bool expect_continue_ = false;
    bool continue_sent_ = false;
    bool body_complete_ = false;  // the request being handled had no body left on the wire
    std::shared_ptr<const WsHandler> upgrade_;  // what a ws route asked to run after its 101
    bool flushing_ = false;       // flush_pipeline()'s write is in flight
};

WireBody::WireBody(Connection& c, Parser& parser) noexcept
    : c_(c), parser_(parser), pace_(c.options_.body_timeout, c.options_.min_transfer_rate) {}

void WireBody::handling_suspends() noexcept { c_.handling_suspends(); }

bool WireBody::upgrade(std::shared_ptr<const WsHandler> handler) noexcept {
    c_.upgrade_ = std::move(handler);
    return true;
}

bool WholeBody::upgrade(std::shared_ptr<const WsHandler> handler) noexcept {
    c_.upgrade_ = std::move(handler);
    return true;
}

std::size_t WholeBody::default_limit() const noexcept { return c_.options_.max_body_bytes; }

void WholeBody::handling_suspends() noexcept { c_.handling_suspends(); }

WireBody::~WireBody() {
    if (charged_ > 0) memory_budget().give(charged_);
}

MemoryBudget WireBody::memory_budget() const noexcept {
    // A client exempt from the per-client caps (a trusted proxy, a unix socket) counts
    // against the total only.
    const std::size_t share = c_.options_.max_buffered_body_bytes_per_ip;
    return {&c_.server_.buffered_body_bytes, c_.options_.max_buffered_body_bytes,
            share != 0 ? c_.state_.client_body_bytes : nullptr, share};
}

std::size_t WireBody::default_limit() const noexcept { return c_.options_.max_body_bytes; }

void WireBody::fail(int status, const char* code, const char* message) {
    failed_ = true;
    throw HttpError(status, code, message);
}

void WireBody::start(std::size_t limit) {
    if (failed_) throw HttpError(400, "bad_request", "Request body could not be read");
    if (started_) return;
    started_ = true;
    if (auto length = parser_.content_length(); length && *length > limit)
        fail(413, "payload_too_large", "Request body too large");
    parser_.body_limit(limit);  // chunked bodies: Beast counts as the chunks arrive
    parser_.eager(true);
}

Task<std::size_t> WireBody::pump(char* dst, std::size_t room) {
    for (;;) {
        if (parser_.is_done()) {
            c_.watch_peer();  // the whole request is in: a close from now on is the client leaving
            co_return 0;
        }
        auto& body = parser_.get().body();
        body.data = dst;
        body.size = room;
        std::size_t used = 0;
        if (c_.buffer_.size() > 0) {
            boost::system::error_code ec;
            try {
                used = parser_.put(c_.buffer_.data(), ec);
            } catch (const std::exception&) {  // Beast throws for an oversized trailer field
                fail(400, "bad_request", "Malformed request body");
            }
            c_.buffer_.consume(used);
            if (ec == http::error::need_buffer || ec == http::error::need_more) ec = {};
            if (ec == http::error::body_limit) fail(413, "payload_too_large", "Request body too large");
            if (ec) fail(400, "bad_request", "Malformed request body");
            const std::size_t got = room - body.size;
            if (got > 0) {
                received_ += got;
                pace_.earned(got);
                co_return got;
            }
            if (used > 0) continue;  // framing (a chunk line) but no data yet
        }
        co_await read_more();
    }
}

Task<> WireBody::read_more() {
    if (c_.free_space() == 0) fail(400, "bad_request", "Malformed request body");  // a chunk line too long
    if (!c_.pipeline_.empty() && !co_await c_.flush_pipeline()) fail(400, "bad_request", "Request body could not be read");
    co_await c_.send_continue();
    boost::system::error_code ec;
    c_.tcp_.expires_after(pace_.begin());
    co_await c_.read_some(ec);
    // tcp_stream closes the socket when the deadline passes: a client below the rate.
    if (ec) fail(400, "bad_request", "Request body could not be read");
    pace_.waited();  // the payload in what arrived earns its credit in pump()
}

Task<std::string_view> WireBody::next(std::size_t limit) {
    start(limit);
    char* chunk = c_.chunk_buffer();
    const std::size_t n = co_await pump(chunk, chunk_size);
    co_return std::string_view(chunk, n);
}

void WireBody::grow(std::string& out, std::size_t more, std::size_t most) {
    const std::size_t needed = out.size() + more;
    if (out.capacity() >= needed) return;
    // By half again, not twice: the buffer stays within 1.5x what arrived (plus a chunk).
    const std::size_t capacity = std::max(
        needed, std::min(std::max(out.capacity() + out.capacity() / 2, initial_body_capacity), std::max(most, needed)));
    // The first initial_body_capacity bytes of every body are not charged: they are part of a
    // connection's own bound (ServerOptions caps connections), and small bodies — a login —
    // then never meet the budget, however large bodies fill it.
    const std::size_t charge = capacity > initial_body_capacity ? capacity - initial_body_capacity : 0;
    if (charge > charged_) {
        // The budget, and this client's share of it: one address cannot take it from the others.
        if (!memory_budget().take(charge - charged_)) {
            failed_ = true;  // the rest stays on the wire: the connection closes after the answer
            throw HttpError(503, "overloaded", "The server is busy, try again shortly").with_header("Retry-After", "1");
        }
        charged_ = charge;
    }
    // Exactly `capacity`: std::string::reserve may round up to twice the old size.
    std::string bigger;
    bigger.reserve(capacity);
    bigger.append(out);
    out.swap(bigger);
}

Task<> WireBody::read_all(std::string& out, std::size_t limit) {
    start(limit);
    const auto length = parser_.content_length();
    // What the body can still grow to: the declared length, else the limit (+1, so that a
    // chunked body one byte over it still reaches Beast's body_limit check).
    const std::uint64_t most = length                                          ? *length
                               : limit == std::numeric_limits<std::size_t>::max() ? limit
                                                                                 : std::uint64_t{limit} + 1;
    for (;;) {
        if (parser_.is_done()) {
            co_await pump(nullptr, 0);  // the end of the body, as pump() sees it
            co_return;
        }
        // The buffer grows only once it is (nearly) full, and a pass offers at most chunk_size of it:
        // resize() zero-fills the room it adds, so a pass must not add more than one read can
        // fill, or reading would be quadratic in the size.
        const std::uint64_t left = most > received_ ? most - received_ : 1;
        std::size_t room = static_cast<std::size_t>(std::min<std::uint64_t>(left, chunk_size));
        // Nothing of the body here yet: wait for some before making a buffer, so that a client
        // that declared a length and sends nothing holds nothing.
        if (out.capacity() < initial_body_capacity && c_.buffer_.size() == 0) co_await read_more();
        if (out.capacity() - out.size() < std::min(room, min_read))
            grow(out, room, static_cast<std::size_t>(std::min<std::uint64_t>(most, std::numeric_limits<std::size_t>::max())));
        room = std::min(room, out.capacity() - out.size());
        const std::size_t old = out.size();
        out.resize(old + room);
        const std::size_t n = co_await pump(out.data() + old, room);
        out.resize(old + n);
        if (n == 0) co_return;
    }
}

bool WireBody::can_discard_rest() const noexcept {
    if (failed_ || (c_.expect_continue_ && !c_.continue_sent_)) return false;
    auto length = parser_.content_length();
    return length && *length - received_ <= discard_budget;
}

Task<bool> WireBody::discard_rest() {
    try {
        start(std::numeric_limits<std::size_t>::max());  // can_discard_rest() bounded it
        char* scratch = c_.chunk_buffer();
        while (co_await pump(scratch, chunk_size) > 0) {
        }
    } catch (const HttpError&) {
        co_return false;
    }
    co_return true;
}

}  // namespace

Task<> serve(ServerContext& server, ConnectionState& state, Transport& transport) {
    // The server binds state.cancel to this coroutine; only a client leaving mid-request
    // emits it, and serve_one resets the state before anything else is awaited.
    return Connection::serve(server, state, transport);
}

}  // namespace spur::detail
