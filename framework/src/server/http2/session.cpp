// The HTTP/2 connection's life: nghttp2's session set up, the reader, the writer (one write per
// batch of frames), the watch (deadlines), the end. Frames: session_frames.cpp; a stream's
// handling: session_streams.cpp.
#include "server/http2/session.hpp"

#include "server/client_address.hpp"
#include "server/http2/serve_h2.hpp"
#include "server/transport.hpp"
#include "util/exception_message.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
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
    transport_.expires_never();

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
        // A full batch the socket took at once did not wait: let the reader (a client that
        // left, a reset) and the thread's other connections run before the next one, or a
        // large download would hold the I/O thread to its end.
        if (out_.size() >= batch_bytes) co_await net::post(transport_.tcp().get_executor(), net::use_awaitable);
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
