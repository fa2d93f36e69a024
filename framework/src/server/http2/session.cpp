#include "server/http2/session.hpp"

#include "server/client_address.hpp"
#include "server/finish.hpp"
#include "server/http2/serve_h2.hpp"
#include "server/transport.hpp"
#include "util/exception_message.hpp"

#include <spur/http_error.hpp>
#include <spur/serving.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/core.h>

#include <array>
#include <stdexcept>

namespace spur::detail {

namespace {

constexpr std::chrono::milliseconds linger_time{2000};
// A batch of frames is written once it reaches this size (or nghttp2 has nothing more).
constexpr std::size_t batch_bytes = 64 * 1024;
// The connection's own window: large, and refilled as DATA arrives (the streams' windows are
// what bounds a connection's unread bodies), so that one stream never stalls another.
constexpr std::int32_t connection_window = 16 * 1024 * 1024;
// Reads go into a small buffer while the connection is idle, a large one while it works.
constexpr std::size_t small_read = 1024;
constexpr std::size_t big_read = 16 * 1024;
// The writer's batch an idle connection keeps (a small answer's frames): larger ones are freed.
constexpr std::size_t kept_batch = 4 * 1024;
// WINDOW_UPDATEs the DATA frames sent so far may earn the client, at most.
constexpr std::uint32_t window_credit_cap = 10'000;

struct Callbacks {
    nghttp2_session_callbacks* callbacks = nullptr;
    Callbacks() {
        if (nghttp2_session_callbacks_new(&callbacks) != 0) throw std::bad_alloc();
    }
    ~Callbacks() { nghttp2_session_callbacks_del(callbacks); }
};

struct Option {
    nghttp2_option* option = nullptr;
    Option() {
        if (nghttp2_option_new(&option) != 0) throw std::bad_alloc();
    }
    ~Option() { nghttp2_option_del(option); }
};

H2Session& self_of(void* p) noexcept { return *static_cast<H2Session*>(p); }

}  // namespace

H2Session::H2Session(ServerContext& server, ConnectionState& state, Transport& transport)
    : server_(server), options_(server.options), state_(state), transport_(transport),
      remote_(state.local ? std::string("unix") : peer_address(transport.tcp().socket())),
      wake_(transport.tcp().get_executor()), watch_(transport.tcp().get_executor()), idle_since_(clock::now()),
      resets_(server.options.http2.reset_burst, server.options.http2.resets_per_second),
      control_(server.options.http2.control_burst, server.options.http2.control_per_second),
      finished_(transport.tcp().get_executor()) {
    const auto& h2 = options_.http2;
    Callbacks cb;
    nghttp2_session_callbacks_set_on_begin_frame_callback(cb.callbacks, &H2Session::on_begin_frame);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb.callbacks, &H2Session::on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb.callbacks, &H2Session::on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb.callbacks, &H2Session::on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb.callbacks, &H2Session::on_data_chunk_recv);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb.callbacks, &H2Session::on_frame_send);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb.callbacks, &H2Session::on_stream_close);
    Option opt;
    // Windows open as handlers read (H2Stream::consume), not as bytes arrive.
    nghttp2_option_set_no_auto_window_update(opt.option, 1);
    nghttp2_option_set_no_closed_streams(opt.option, 1);
    nghttp2_option_set_max_deflate_dynamic_table_size(opt.option, h2.header_table_size);
    // nghttp2's own flood limits stay behind spur's (which answer ENHANCE_YOUR_CALM), as a backstop.
    nghttp2_option_set_stream_reset_rate_limit(opt.option, std::uint64_t{h2.reset_burst} * 2 + 1,
                                               std::uint64_t{h2.resets_per_second} * 2 + 1);
    nghttp2_option_set_max_continuations(opt.option, std::size_t{h2.max_continuations} + 2);
    nghttp2_option_set_max_outbound_ack(opt.option, std::size_t{h2.control_burst} + 1);
    if (nghttp2_session_server_new2(&session_, cb.callbacks, this, opt.option) != 0) throw std::bad_alloc();
}

H2Session::~H2Session() { nghttp2_session_del(session_); }

MemoryBudget H2Session::memory_budget() const noexcept {
    const std::size_t share = options_.max_buffered_body_bytes_per_ip;
    return {&server_.buffered_body_bytes, options_.max_buffered_body_bytes, share != 0 ? state_.client_body_bytes : nullptr,
            share};
}

const LogSink& H2Session::log() const noexcept { return server_.app.log(); }

void H2Session::kick() noexcept {
    if (!writer_idle_) return;
    writer_idle_ = false;
    wake_.cancel();
}

Task<> H2Session::run(std::string already_read) {
    const auto& h2 = options_.http2;
    const std::array<nghttp2_settings_entry, 4> settings{{
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, h2.max_concurrent_streams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, h2.stream_window},
        {NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, h2.header_table_size},
        // Advisory (RFC 9113 §6.5.2): what RequestHead enforces, as a header block's size.
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
         static_cast<std::uint32_t>(options_.max_header_bytes + options_.max_request_line)},
    }};
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, connection_window);
    state_.idle.store(true, std::memory_order_relaxed);
    // Deadlines are the watch's (idle, header block) and each write's; a read may wait as long
    // as streams are open. (The HTTP/1.1 reader or the TLS handshake left an expiry behind.)
    transport_.tcp().expires_never();

    auto executor = transport_.tcp().get_executor();
    auto self = shared_from_this();
    net::co_spawn(executor, write_loop(), [self](std::exception_ptr failure) {
        if (failure)
            self->log()(LogRecord{.level = LogLevel::error,
                                  .message = fmt::format("HTTP/2 writer failed: {}", exception_message(failure))});
        self->writer_done_ = true;
        self->end();
        self->done_waiting();
    });
    net::co_spawn(executor, watch_loop(), [self](std::exception_ptr) {
        self->watch_done_ = true;
        self->done_waiting();
    });

    bool more = already_read.empty() || receive(already_read.data(), already_read.size());
    if (more && server_.stopping.load(std::memory_order_relaxed)) drain();  // a connection that came as the listener closed
    while (more && !ending_) {
        boost::system::error_code ec;
        const auto target = read_target();
        const std::size_t n = co_await transport_.read_some(target, ec);
        if (ec) {
            // End of stream or a reset: the client left (a half-close too, as on HTTP/1.1); else
            // end() cancelled the read.
            if (!ending_) peer_left_ = true;
            break;
        }
        more = receive(static_cast<const char*>(target.data()), n);
    }

    // The end: unanswered streams are lost (their handlers cancelled, their hooks see 499); the
    // writer sends what is queued (a GOAWAY) unless the client left, and stops; run() waits for
    // every coroutine. Streams nghttp2 still holds stay (it may call back into them) until the
    // session is deleted.
    if (peer_left_) end();
    ending_ = true;
    for (auto& [id, s] : streams_) s->lost();
    kick();
    watch_.cancel();
    while (!writer_done_ || !watch_done_ || running_ > 0) {
        finished_.expires_at(clock::time_point::max());
        boost::system::error_code ec;
        co_await finished_.async_wait(net::redirect_error(net::use_awaitable, ec));
    }
    state_.idle.store(true, std::memory_order_relaxed);
    if (!peer_left_) co_await transport_.close_gracefully(linger_time);
    boost::system::error_code ec;
    transport_.tcp().socket().close(ec);
}

// An idle connection (no stream, no frame under way) reads into a small buffer and gives the
// large one and the writer's batch back: ten thousand idle h2 connections must not hold 80 KiB
// each.
net::mutable_buffer H2Session::read_target() {
    if (streams_.empty() && !cursor_.mid_frame() && !in_block_) {
        big_buffer_.reset();
        if (out_.capacity() > kept_batch) std::string().swap(out_);
        return net::buffer(small_buffer_);
    }
    if (!big_buffer_) big_buffer_ = std::make_unique<char[]>(big_read);
    return {big_buffer_.get(), big_read};
}

bool H2Session::receive(const char* data, std::size_t size) {
    const bool was_mid_frame = cursor_.mid_frame();
    cursor_.advance(data, size);
    if (cursor_.mid_frame() && !was_mid_frame) frame_started_ = clock::now();
    const auto used = nghttp2_session_mem_recv(session_, reinterpret_cast<const std::uint8_t*>(data), size);
    kick();
    update_deadline();
    return used >= 0 && !calm_;
}

void H2Session::drain() {
    if (draining_ || ending_) return;
    draining_ = true;
    nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                          nullptr, 0);
    kick();
}

void H2Session::end() noexcept {
    if (ending_) return;
    ending_ = true;
    boost::system::error_code ec;
    transport_.tcp().socket().cancel(ec);  // the reader's pending read
}

void H2Session::done_waiting() noexcept {
    if (ending_) finished_.cancel();
}

int H2Session::calm() {
    calm_soon();
    return NGHTTP2_ERR_CALLBACK_FAILURE;  // nghttp2 stops reading this input at once
}

void H2Session::calm_soon() noexcept {
    if (calm_) return;
    calm_ = true;
    nghttp2_session_terminate_session(session_, NGHTTP2_ENHANCE_YOUR_CALM);
    kick();
}

H2Stream* H2Session::stream(std::int32_t id) noexcept {
    return static_cast<H2Stream*>(nghttp2_session_get_stream_user_data(session_, id));
}

// Every frame's header, before its payload: the flood limits.
int H2Session::on_begin_frame(nghttp2_session*, const nghttp2_frame_hd* hd, void* p) {
    auto& self = self_of(p);
    const auto& h2 = self.options_.http2;
    const std::size_t block_limit = self.options_.max_header_bytes + self.options_.max_request_line;
    switch (hd->type) {
        case NGHTTP2_HEADERS:
            self.block_bytes_ = hd->length;
            self.continuations_ = 0;
            self.in_block_ = (hd->flags & NGHTTP2_FLAG_END_HEADERS) == 0;
            if (self.in_block_) self.block_started_ = clock::now();
            if (self.block_bytes_ > block_limit) return self.calm();
            break;
        case NGHTTP2_CONTINUATION:
            self.block_bytes_ += hd->length;
            if (++self.continuations_ > h2.max_continuations || self.block_bytes_ > block_limit) return self.calm();
            if ((hd->flags & NGHTTP2_FLAG_END_HEADERS) != 0) self.in_block_ = false;
            break;
        case NGHTTP2_RST_STREAM:
            if (!self.resets_.take()) return self.calm();
            break;
        case NGHTTP2_SETTINGS:
        case NGHTTP2_PING:
            if ((hd->flags & NGHTTP2_FLAG_ACK) == 0 && !self.control_.take()) return self.calm();
            break;
        case NGHTTP2_PRIORITY:
            if (!self.control_.take()) return self.calm();
            break;
        case NGHTTP2_WINDOW_UPDATE:
            // A client downloading acknowledges DATA with WINDOW_UPDATEs, thousands a second on a
            // fast link: up to two per DATA frame sent are free, the rest are control frames.
            if (self.window_credit_ > 0) --self.window_credit_;
            else if (!self.control_.take()) return self.calm();
            break;
        default: break;
    }
    return 0;
}

int H2Session::on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* p) {
    auto& self = self_of(p);
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    const auto id = frame->hd.stream_id;
    auto s = std::make_unique<H2Stream>(self, id, self.transport_.tcp().get_executor());
    nghttp2_session_set_stream_user_data(self.session_, id, s.get());
    self.streams_[id] = std::move(s);
    self.state_.idle.store(false, std::memory_order_relaxed);
    return 0;
}

int H2Session::on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name, std::size_t name_size,
                         const std::uint8_t* value, std::size_t value_size, std::uint8_t, void* p) {
    auto& self = self_of(p);
    // Only a request's header block is kept; trailers are dropped as on HTTP/1.1 (an
    // Authorization trailer must not authenticate).
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    if (auto* s = self.stream(frame->hd.stream_id)) {
        auto& head = s->head();
        head.add({reinterpret_cast<const char*>(name), name_size}, {reinterpret_cast<const char*>(value), value_size});
        // HPACK lets a small block decode to a huge one (references to a large table entry):
        // past four times what a block may hold, decoding on is a flood.
        if (head.decoded() > 4 * (self.options_.max_header_bytes + self.options_.max_request_line)) return self.calm();
    }
    return 0;
}

int H2Session::on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* p) {
    auto& self = self_of(p);
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    switch (frame->hd.type) {
        case NGHTTP2_SETTINGS: self.greeted_ = true; break;
        case NGHTTP2_HEADERS:
            if (auto* s = self.stream(frame->hd.stream_id)) {
                if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
                    if (end_stream) s->end_of_body(true);
                    self.start(*s);
                } else if (end_stream) {
                    s->end_of_body(false);  // after trailers
                }
            }
            break;
        case NGHTTP2_DATA:
            // Padding only is an empty frame too.
            if (!end_stream && frame->hd.length == frame->data.padlen && !self.control_.take()) return self.calm();
            if (end_stream)
                if (auto* s = self.stream(frame->hd.stream_id)) s->end_of_body(false);
            break;
        case NGHTTP2_RST_STREAM:
            if (auto* s = self.stream(frame->hd.stream_id)) s->reset_by_client = true;
            break;
        default: break;
    }
    return 0;
}

int H2Session::on_data_chunk_recv(nghttp2_session* session, std::uint8_t, std::int32_t stream_id, const std::uint8_t* data,
                                  std::size_t size, void* p) {
    auto& self = self_of(p);
    if (auto* s = self.stream(stream_id)) s->received(data, size);
    // The connection's window refills at once; each stream's opens as its handler reads.
    nghttp2_session_consume_connection(session, size);
    return 0;
}

int H2Session::on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* p) {
    auto& self = self_of(p);
    const auto type = frame->hd.type;
    if (type != NGHTTP2_DATA && type != NGHTTP2_HEADERS) return 0;
    auto* s = self.stream(frame->hd.stream_id);
    if (!s) return 0;
    if (type == NGHTTP2_DATA) {
        s->data_sent(frame->hd.length);
        self.window_credit_ = std::min(self.window_credit_ + 2, window_credit_cap);
    }
    if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
        s->end_sent();
        self.ended_.push_back(frame->hd.stream_id);
    }
    return 0;
}

int H2Session::on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t error_code, void* p) {
    auto& self = self_of(p);
    auto* s = self.stream(stream_id);
    if (!s) return 0;
    // A stream the server had to reset for the client's fault (a protocol error nghttp2 found,
    // a body below the rate) costs a handler like one the client resets: the same bucket
    // (CVE-2025-8671, "MadeYouReset"). The client's own RST_STREAMs were counted on arrival.
    if (error_code != NGHTTP2_NO_ERROR && !s->reset_by_client && !self.resets_.take()) self.calm_soon();
    s->closed();
    // Its handler finished first (see stream_done), or never started (refused, or reset
    // before its header block ended).
    if (s->done || !s->spawned) self.erase(stream_id);
    return 0;
}

void H2Session::erase(std::int32_t id) {
    nghttp2_session_set_stream_user_data(session_, id, nullptr);
    streams_.erase(id);
    if (streams_.empty()) {
        idle_since_ = clock::now();
        state_.idle.store(!in_block_, std::memory_order_relaxed);
    }
    update_deadline();
}

void H2Session::start(H2Stream& s) {
    // Handlers still running for streams nghttp2 already closed (reset, run_to_completion) count
    // too: resetting streams must not buy a client more handlers than streams.
    if (running_ >= options_.http2.max_concurrent_streams) {
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id(), NGHTTP2_REFUSED_STREAM);
        return;
    }
    Rejection rejection;
    auto message = s.head().finish(rejection);
    auto& req = s.request.emplace(std::move(message), remote_, &s);
    resolve_client(req, server_.trusted_proxies, options_.forwarded_header, transport_.secure());
    s.response.emplace();
    s.spawned = true;
    ++running_;
    const auto id = s.id();
    net::co_spawn(transport_.tcp().get_executor(), serve_stream(&s, rejection),
                  net::bind_cancellation_slot(s.cancel.slot(), [self = shared_from_this(), id](std::exception_ptr failure) {
                      if (failure)
                          self->log()(LogRecord{.level = LogLevel::error,
                                                .message = fmt::format("HTTP/2 stream ended by exception: {}",
                                                                       exception_message(failure))});
                      self->stream_done(id);
                  }));
}

// One stream: the app, the answer, the hooks after it is written — as Connection::serve_one
// does for an HTTP/1.1 request.
Task<> H2Session::serve_stream(H2Stream* stream, Rejection rejection) {
    auto& s = *stream;
    auto& req = *s.request;
    auto& res = *s.response;
    s.handling = true;
    if (rejection) {
        const HttpError error(rejection.status, rejection.code, rejection.message);
        co_await Serving(server_.app).refuse(req, res, error);
    } else {
        co_await server_.app.handle(req, res);
    }
    // 101 and 426 ask for a protocol upgrade (a ws route), which HTTP/2 cannot carry: the stream
    // is refused with HTTP_1_1_REQUIRED, and the client retries over HTTP/1.1 (RFC 9113 §8.6).
    const bool http11_only = !s.reset() && (res.status() == 101 || res.status() == 426);
    if (http11_only) s.stop(NGHTTP2_HTTP_1_1_REQUIRED);
    if (!s.reset() && !http11_only) {
        const bool head = req.method() == "HEAD";
        const auto framing = finish_response(res, 11, head, true);
        const bool body = framing.send_body && (framing.stream || !res.body().empty());
        s.submit(head_.build(res, framing), !body);
        if (framing.stream) {
            std::string failure;
            if (!co_await s.run_producer(failure)) {
                if (!failure.empty())
                    log()(LogRecord{.level = LogLevel::error,
                                    .message = fmt::format("streamed body failed after headers were sent: {}", failure),
                                    .request_id = req.id(),
                                    .trace_id = req.trace().trace_id_hex()});
                s.abort(failure.empty() ? NGHTTP2_CANCEL : NGHTTP2_INTERNAL_ERROR);
            }
        }
    }
    s.handling = false;
    if (!s.reset() && !http11_only) co_await s.until_written();
    // The answer is complete and the client still sends a body nobody read: stop it (RFC 9113
    // §8.1), the stream's window is not reopened anyway.
    if (!s.reset() && !http11_only && !s.body_ended()) s.stop(NGHTTP2_NO_ERROR);
    if (s.reset()) {
        co_await net::this_coro::reset_cancellation_state();
        res.status(499);
    }
    res.bytes_sent(s.sent());
    run_finish_hooks(req, res, log());
    state_.fresh.store(false, std::memory_order_relaxed);
}

void H2Session::stream_done(std::int32_t id) {
    --running_;
    auto it = streams_.find(id);
    if (it != streams_.end()) {
        // nghttp2 may still hold the stream (a RST_STREAM or the answer's last frame queued,
        // its data source pointing here): it goes with on_stream_close, or with the session.
        if (nghttp2_session_find_stream(session_, id) != nullptr) it->second->done = true;
        else erase(id);
    }
    kick();
    done_waiting();
}

Task<> H2Session::write_loop() {
    for (;;) {
        if (ending_ && peer_left_) break;  // nobody to write to
        if (nghttp2_session_want_write(session_) == 0) {
            // Nothing to send. The session is over once nghttp2 wants nothing more either
            // (GOAWAY sent and the last stream closed, or a protocol error).
            if (ending_ || nghttp2_session_want_read(session_) == 0) break;
            writer_idle_ = true;
            wake_.expires_at(clock::time_point::max());
            boost::system::error_code ec;
            co_await wake_.async_wait(net::redirect_error(net::use_awaitable, ec));
            writer_idle_ = false;
            continue;
        }
        out_.clear();
        ended_.clear();
        while (out_.size() < batch_bytes) {
            const std::uint8_t* data = nullptr;
            const auto n = nghttp2_session_mem_send(session_, &data);
            if (n < 0) {
                end();
                co_return;
            }
            if (n == 0) break;
            out_.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
        }
        if (out_.empty()) continue;
        boost::system::error_code ec;
        const std::array<net::const_buffer, 1> buffers{net::buffer(out_)};
        // What the socket takes at once needs no deadline (the usual case on plain TCP); the
        // rest gets write_timeout plus the time its bytes take at min_transfer_rate, kept by
        // the watch (see Transport::unbounded).
        const std::size_t taken = transport_.write_now(buffers, ec);
        if (!ec && taken < out_.size()) {
            const auto rate = options_.min_transfer_rate;
            write_deadline_ = clock::now() + options_.write_timeout +
                              (rate == 0 ? clock::duration::zero()
                                         : std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(
                                               static_cast<double>(out_.size() - taken) / static_cast<double>(rate))));
            writing_ = true;
            update_deadline();
            const std::array<net::const_buffer, 1> rest{net::buffer(out_.data() + taken, out_.size() - taken)};
            co_await transport_.write(rest, ec, Transport::unbounded);
            writing_ = false;
        }
        if (ec) {
            peer_left_ = true;
            break;
        }
        for (const auto id : ended_)
            if (auto it = streams_.find(id); it != streams_.end()) it->second->written();
        if (calm_ && nghttp2_session_want_write(session_) == 0) break;  // GOAWAY sent: done
    }
    end();
}

H2Session::clock::time_point H2Session::deadline() const noexcept {
    const auto write = writing_ ? write_deadline_ : clock::time_point::max();
    return std::min(write, read_deadline());
}

H2Session::clock::time_point H2Session::read_deadline() const noexcept {
    if (idle_goaway_) return clock::time_point::max();
    // A header block, or any one frame, must be complete within header_timeout of its start.
    if (in_block_ || cursor_.mid_frame())
        return std::min(in_block_ ? block_started_ : clock::time_point::max(),
                        cursor_.mid_frame() ? frame_started_ : clock::time_point::max()) +
               options_.header_timeout;
    if (!greeted_) return idle_since_ + options_.header_timeout;
    if (streams_.empty()) return idle_since_ + options_.idle_timeout;
    return clock::time_point::max();
}

// Only a deadline that came closer needs the watch re-armed now; one that moved away is seen
// when the watch wakes (a write's deadline comes and goes with every write that waits).
void H2Session::update_deadline() noexcept {
    if (deadline() < armed_for_) watch_.cancel();
}

// Ends a connection whose client idles past idle_timeout (GOAWAY NO_ERROR first), or that
// leaves its preface or a header block unfinished past header_timeout.
Task<> H2Session::watch_loop() {
    while (!ending_) {
        armed_for_ = deadline();
        watch_.expires_at(armed_for_);
        boost::system::error_code ec;
        co_await watch_.async_wait(net::redirect_error(net::use_awaitable, ec));
        if (ending_) break;
        if (ec || clock::now() < deadline()) continue;  // moved
        if (writing_ && clock::now() >= write_deadline_) {
            peer_left_ = true;  // a client below the minimum rate: nothing more is written
            end();
            break;
        }
        if (greeted_ && !in_block_ && !cursor_.mid_frame() && streams_.empty()) {
            // Idle: GOAWAY, then the connection ends once it is written (the watch still
            // bounds that write).
            idle_goaway_ = true;
            nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR);
            kick();
            continue;
        }
        end();
        break;
    }
}

Task<> serve_h2(ServerContext& server, ConnectionState& state, Transport& transport, std::string already_read) {
    auto session = std::make_shared<H2Session>(server, state, transport);
    state.http2 = session;
    co_await session->run(std::move(already_read));
    state.http2.reset();
}

}  // namespace spur::detail
