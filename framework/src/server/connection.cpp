#include "server/connection.hpp"

#include "server/client_address.hpp"
#include "server/exchange.hpp"
#include "server/finish.hpp"
#include "server/framing.hpp"
#if SPUR_HAS_HTTP2
#include "server/http2/serve_h2.hpp"
#endif
#include "server/peer_watch.hpp"
#include "server/pipeline.hpp"
#include "server/request_reader.hpp"
#include "server/transport.hpp"
#include "server/websocket/upgrade.hpp"
#include "server/wire_body.hpp"
#include "server/writer.hpp"

#include <spur/http_error.hpp>
#include <spur/serving.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/this_coro.hpp>

#include <array>

namespace spur::detail {

namespace {

constexpr std::chrono::milliseconds linger_time{2000};
constexpr std::chrono::milliseconds linger_time_draining{250};
constexpr std::chrono::seconds refusal_write_timeout{5};

// One client connection: read a request's header, hand the request to the app, write the
// answer, repeat. The request's body, the watch for a client that leaves, held pipelined
// answers and the writing of responses are objects of their own; a body reaches the
// connection only through Inbound.
class Connection final : Inbound {
public:
    Connection(ServerContext& server, ConnectionState& state, Transport& transport)
        : server_(server), options_(server.options), state_(state), transport_(transport), reader_(transport, options_),
          writer_(transport, options_.write_timeout, server.app.log()), watch_(state),
          remote_(state.local ? std::string("unix") : peer_address(transport.tcp().socket())) {
        transport.min_write_rate(options_.min_transfer_rate);
    }

    /// Serves the connection until it ends. The loop runs in the coroutine that owns the
    /// Connection, and waits for the next request itself: an idle connection keeps no
    /// coroutine frame beyond this one and Asio's read.
    static Task<> serve(ServerContext& server, ConnectionState& state, Transport& transport) {
        Connection c(server, state, transport);
        bool first = true;
        for (;;) {
            if (c.reader_.buffer().size() == 0) {  // else a pipelined request is already here
                // (Each co_await of a coroutine costs a frame: the loop awaits only what must wait.)
                if (!c.pipeline_.empty() && !co_await c.pipeline_.flush(transport, c.options_.write_timeout, c.log()))
                    break;
                if (!c.begin_wait(first)) break;
                boost::system::error_code ec;
                const auto buffer = c.reader_.first_buffer(first);
                std::size_t n = 0;
                if (first)
                    n = co_await transport.read_some(buffer, ec);
                else  // the answer just left: see read_next()
                    n = co_await transport.read_next(buffer, ec);
                c.reader_.received_first(n);
                state.idle.store(false, std::memory_order_relaxed);
                if (ec) break;
            }
            first = false;
            Step step = co_await c.serve_one();
            if (step == Step::keep_alive) continue;
            if (step == Step::linger) {
                const bool draining = server.stopping.load(std::memory_order_relaxed);
                co_await transport.close_gracefully(draining ? linger_time_draining : linger_time);
            }
            break;
        }
        boost::system::error_code ec;
        transport.tcp().socket().close(ec);
    }

private:
    enum class Step { keep_alive, linger, close };

    // One request: its header, the app, the answer.
    Task<Step> serve_one() {
        // 1. The header block, scanned by spur, parsed by Beast, checked by spur.
        HeaderScanner scanner(options_.max_request_line, options_.max_header_bytes, options_.max_header_fields);
        Rejection rejection;
        if (!reader_.header_here(scanner, rejection) && !co_await reader_.read_header(scanner, rejection, pipeline_, log()))
            co_return Step::close;
#if SPUR_HAS_HTTP2
        // HTTP/2's preface reads as a request line "PRI * HTTP/2.0" and an empty header: h2c
        // by prior knowledge, recognised on a connection's first request only.
        if (options_.http2.cleartext && !transport_.secure() && state_.fresh.load(std::memory_order_relaxed) &&
            pipeline_.empty() &&
            scanner.request_line(reader_.buffered()) == "PRI * HTTP/2.0") {
            co_await serve_h2(server_, state_, transport_, std::string(reader_.buffered().substr(scanner.begin())));
            co_return Step::close;
        }
#endif
        auto exchange = Exchange::make();
        bool parsed = false;
        if (!rejection) rejection = reader_.parse_header(scanner, exchange->parser, parsed);
        WireBody body(*this, exchange->parser);
        BodyFraming framing;
        bool drop_rest = false;  // an unread rest of the body, small enough to drop after the answer
        if (rejection) {  // answered through the app's error path; the connection then closes
            co_await refuse(rejection, parsed ? std::string_view{} : scanner.request_line(reader_.buffered()), *exchange);
            framing = finish_response(*exchange->response, 11, false, false);
        } else {
            // 2. The app, with the body left on the wire until something asks for it.
            auto& req = start_request(*exchange, body);
            auto& res = *exchange->response;
            co_await server_.app.handle(req, res);
            watch_.disarm();
            if (state_.peer_gone) {  // reset first: a cancelled coroutine's next co_await would throw
                co_await net::this_coro::reset_cancellation_state();
                co_return co_await forget(res);
            }
            if (res.status() == 101 && upgrade_) co_return co_await upgrade(req, res, std::move(upgrade_));
            // Keep-alive also needs the body consumed, or the next "request" would start inside it.
            drop_rest = !body.body_complete() && body.can_discard_rest();
            const bool keep_alive = req.keep_alive() && (body.body_complete() || drop_rest) &&
                                    !server_.stopping.load(std::memory_order_relaxed);
            framing = finish_response(res, req.version(), req.method() == "HEAD", keep_alive);
            if (reader_.buffer().size() > 0 && body_complete_ && pipeline_.can_hold(res, framing)) {
                // The next request is already here (pipelined): this answer leaves with its.
                pipeline_.hold(std::move(exchange), framing);
                state_.fresh.store(false, std::memory_order_relaxed);
                co_return Step::keep_alive;
            }
        }
        // 3. The answer, after the held ones, in one write.
        auto& req = *exchange->request;
        auto& res = *exchange->response;
        // A streamed answer (server-sent events, a relayed stream) can wait on its producer for
        // minutes: a client that leaves meanwhile cancels the producer, as it would a handler.
        const bool watched = framing.stream && !rejection;
        if (watched) {
            state_.request = &req;
            watch_.arm();
        }
        auto ec = co_await writer_.write(res, framing, req, pipeline_.unsent());
        if (watched) {
            watch_.disarm();
            if (state_.peer_gone) {
                co_await net::this_coro::reset_cancellation_state();
                if (!ec) ec = net::error::operation_aborted;  // nobody is left to read what follows
            }
        }
        Step step = finished(req, res, ec, framing.keep_alive);
        if (step == Step::keep_alive && drop_rest && !co_await body.discard_rest()) step = Step::close;
        co_return step;
    }

    // The Request and Response of a parsed header. The header moves into the Request; chunked
    // trailers land in the parser's moved-from header, never in the Request's (an
    // Authorization trailer must not authenticate).
    Request& start_request(Exchange& exchange, WireBody& body) {
        auto& parser = exchange.parser;
        auto& message = parser.get();
        expect_continue_ = message.version() == 11 && !message[http::field::expect].empty();
        continue_sent_ = false;
        body_complete_ = parser.is_done();
        upgrade_.reset();  // only the route handling this request may ask for an upgrade
        Wire* wire = body_complete_ ? static_cast<Wire*>(&whole_body_) : &body;
        auto& req = exchange.request.emplace(std::move(message.base()), remote_, wire);
        resolve_client(req, server_.trusted_proxies, options_.forwarded_header, transport_.secure());
        exchange.response.emplace();
        state_.request = &req;
        return req;
    }

    // Fills the exchange with the answer to a request spur refuses before routing, through
    // the app's own error path (global middleware, on_error, logs, metrics); the loop writes
    // it and closes: after a framing error the rest of the stream cannot be trusted. The
    // request is the parsed header, or what `request_line` tells when it did not parse.
    Task<> refuse(const Rejection& rejection, std::string_view request_line, Exchange& exchange) {
        auto& parser = exchange.parser;
        auto message = request_line.empty() && parser.is_header_done() ? Request::Message(std::move(parser.get().base()))
                                                                       : partial_header(request_line);
        auto& req = exchange.request.emplace(std::move(message), remote_);
        resolve_client(req, server_.trusted_proxies, options_.forwarded_header, transport_.secure());
        auto& res = exchange.response.emplace();
        writer_.limit_timeout(refusal_write_timeout);
        co_await Serving(server_.app).refuse(req, res, HttpError(rejection.status, rejection.code, rejection.message));
    }

    // The client left while its request was handled (and the handler was cancelled, or ran to
    // completion for nobody): nothing is written; the finish hooks see 499.
    Task<Step> forget(Response& res) {
        co_await pipeline_.flush(transport_, options_.write_timeout, log());
        res.status(499);
        run_finish_hooks(*state_.request, res, log());
        co_return Step::close;
    }

    // Hands the connection to a ws route's handler; the connection ends with it. RFC 6455
    // clients wait for the 101 before sending frames: bytes already here would be frames Beast
    // never sees, so such a client is dropped.
    Task<Step> upgrade(Request& req, Response& res, std::shared_ptr<const WsHandler> handler) {
        const bool ready = co_await pipeline_.flush(transport_, options_.write_timeout, log()) && reader_.buffer().size() == 0;
        co_await serve_websocket(server_, state_, transport_, req, res, ready ? handler.get() : nullptr);
        co_return Step::close;
    }

    // After the write: the held answers' and this one's finish hooks (499 if the client left
    // first), then how the connection goes on.
    Step finished(const Request& req, Response& res, boost::system::error_code write_ec, bool keep_alive) {
        pipeline_.finish(write_ec, log());
        if (write_ec) res.status(499);
        run_finish_hooks(req, res, log());
        if (write_ec) return Step::close;
        return keep_alive ? Step::keep_alive : Step::linger;
    }

    // Inbound: what a request's body and its handling reach of the connection.
    const ServerOptions& options() const noexcept override { return options_; }
    beast::flat_buffer& buffer() noexcept override { return reader_.buffer(); }
    bool continue_owed() const noexcept override { return expect_continue_ && !continue_sent_; }
    void request_read() noexcept override { watch_.arm(); }
    void upgrade(std::shared_ptr<const WsHandler> handler) noexcept override { upgrade_ = std::move(handler); }

    char* chunk_buffer() override {
        if (!chunk_) chunk_ = std::make_unique<char[]>(chunk_size);
        return chunk_.get();
    }

    MemoryBudget memory_budget() const noexcept override {
        // A client exempt from the per-client caps (a trusted proxy, a unix socket) counts
        // against the total only.
        const std::size_t share = options_.max_buffered_body_bytes_per_ip;
        return {&server_.buffered_body_bytes, options_.max_buffered_body_bytes,
                share != 0 ? state_.client_body_bytes : nullptr, share};
    }

    Task<bool> read_more(std::chrono::steady_clock::duration allowance) override {
        if (!pipeline_.empty() && !co_await pipeline_.flush(transport_, options_.write_timeout, log())) co_return false;
        // `100 Continue`, sent the first time something asks for a body the client holds back.
        if (expect_continue_ && !continue_sent_) {
            continue_sent_ = true;
            static constexpr std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
            boost::system::error_code ec;
            const std::array<net::const_buffer, 1> buffers{net::buffer(interim.data(), interim.size())};
            co_await transport_.write(buffers, ec, options_.write_timeout);
            if (ec) co_return false;
        }
        boost::system::error_code ec;
        transport_.expires_after(allowance);
        co_await reader_.read_some(ec);
        co_return !ec;
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
    void handling_suspends() noexcept override {
        if (!body_complete_ && pipeline_.empty()) return;
        net::post(transport_.tcp().get_executor(), [this, state = state_.shared_from_this(), request = state_.request] {
            if (state->request != request) return;
            if (body_complete_) PeerWatch::arm(state);
            pipeline_.send_now(transport_, log());
        });
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
        transport_.expires_after(first ? options_.header_timeout : options_.idle_timeout);
        if (!first) {  // memory an idle connection does not need
            reader_.idle();
            writer_.release();
        }
        return true;
    }

    const LogSink& log() const noexcept { return server_.app.log(); }

    ServerContext& server_;
    const ServerOptions& options_;
    ConnectionState& state_;
    Transport& transport_;
    RequestReader reader_;
    ResponseWriter writer_;
    PeerWatch watch_;
    WholeBody whole_body_{*this};  // before pipeline_: its held requests point at it
    Pipeline pipeline_;            // answers held until the pipelined requests after them are answered
    std::string remote_;
    std::unique_ptr<char[]> chunk_;             // read_body_chunk()'s buffer, made on first use
    std::shared_ptr<const WsHandler> upgrade_;  // what a ws route asked to run after its 101
    bool expect_continue_ = false;
    bool continue_sent_ = false;
    bool body_complete_ = false;  // the request being handled had no body left on the wire
};

}  // namespace

Task<> serve(ServerContext& server, ConnectionState& state, Transport& transport) {
    // The server binds state.cancel to this coroutine; only a client leaving mid-request
    // emits it, and serve_one resets the state before anything else is awaited.
    return Connection::serve(server, state, transport);
}

}  // namespace spur::detail
