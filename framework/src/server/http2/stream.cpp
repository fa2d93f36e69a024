#include "server/http2/stream.hpp"

#include "server/wire_body.hpp"

#include <spur/http_error.hpp>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cstring>
#include <limits>

namespace spur::detail {

namespace {
// A streamed answer's producer waits once this much is waiting for the client.
constexpr std::size_t out_high_water = chunk_size;
}  // namespace

H2Stream::H2Stream(H2Host& host, std::int32_t id, const net::any_io_executor& executor)
    : host_(host), id_(id), head_(host.options()), event_(executor),
      pace_(host.options().body_timeout, host.options().min_transfer_rate) {}

H2Stream::~H2Stream() {
    const auto budget = host_.memory_budget();
    if (in_charged_ > 0) budget.give(in_charged_);
    if (charged_ > 0) budget.give(charged_);
}

void H2Stream::received(const std::uint8_t* data, std::size_t size) {
    received_ += size;
    if (started_ && received_ > limit_) too_large_ = true;
    if (too_large_ || overloaded_ || failed_ || size == 0) return wake();
    // Queued bytes count against the server's budget like a buffered HTTP/1.1 body: a hundred
    // streams each holding a window's worth of unread body are a connection's real cost.
    if (!host_.memory_budget().take(size)) {
        overloaded_ = true;
        return wake();
    }
    in_charged_ += size;
    if (in_begin_ > 0 && in_begin_ == in_.size()) {
        in_.clear();
        in_begin_ = 0;
    }
    in_.append(reinterpret_cast<const char*>(data), size);
    wake();
}

void H2Stream::end_of_body(bool no_body) noexcept {
    end_ = true;
    no_body_ = no_body;
    wake();
}

void H2Stream::closed() noexcept {
    closed_ = true;
    if (!written_ && !end_sent_) {
        reset_ = true;
        if (handling && request && request->cancels_on_disconnect()) cancel.emit(net::cancellation_type::terminal);
    }
    wake();
}

void H2Stream::data_sent(std::size_t size) noexcept {
    sent_ += size;
    wake();
}

void H2Stream::written() noexcept {
    written_ = true;
    wake();
}

void H2Stream::lost() noexcept {
    if (written_) return;
    closed_ = true;
    reset_ = true;
    if (handling && request && request->cancels_on_disconnect()) cancel.emit(net::cancellation_type::terminal);
    wake();
}

void H2Stream::stop_body() noexcept {
    if (closed_) return;
    nghttp2_submit_rst_stream(host_.session(), NGHTTP2_FLAG_NONE, id_, NGHTTP2_NO_ERROR);
    host_.kick();
}

void H2Stream::abort(std::uint32_t error_code) noexcept {
    reset_ = true;  // the answer will not be complete: its hooks see 499
    if (closed_) return;
    nghttp2_submit_rst_stream(host_.session(), NGHTTP2_FLAG_NONE, id_, error_code);
    host_.kick();
}

Task<bool> H2Stream::wait(std::chrono::steady_clock::duration allowance) {
    event_.expires_after(allowance);
    boost::system::error_code ec;
    co_await event_.async_wait(net::redirect_error(net::use_awaitable, ec));
    co_return ec == net::error::operation_aborted;  // woken (or cancelled: the caller looks at why)
}

void H2Stream::fail(int status, const char* code, const char* message) {
    failed_ = true;
    throw HttpError(status, code, message);
}

void H2Stream::start(std::size_t limit) {
    if (failed_) throw HttpError(400, "bad_request", "Request body could not be read");
    if (started_) return;
    started_ = true;
    limit_ = limit;
    if (auto length = request ? request->header("content-length") : std::string_view{}; !length.empty()) {
        std::uint64_t declared = 0;  // nghttp2 checked it is digits and matches the DATA it counts
        for (char c : length) declared = declared * 10 + static_cast<std::uint64_t>(c - '0');
        if (declared > limit) fail(413, "payload_too_large", "Request body too large");
    }
    if (received_ > limit_) too_large_ = true;
    // 100 Continue, the first time something asks for a body the client holds back.
    if (head_.expects_continue() && !end_ && received_ == 0 && !continue_sent_) {
        continue_sent_ = true;
        static const nghttp2_nv interim[] = {{const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(":status")),
                                              const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>("100")), 7, 3,
                                              NGHTTP2_NV_FLAG_NONE}};
        nghttp2_submit_headers(host_.session(), NGHTTP2_FLAG_NONE, id_, nullptr, interim, 1, nullptr);
        host_.kick();
    }
}

void H2Stream::consume(std::size_t n) noexcept {
    in_begin_ += n;
    host_.memory_budget().give(n);
    in_charged_ -= n;
    pace_.earned(n);
    // The stream's window opens as the handler reads: a slow handler slows its own stream.
    nghttp2_session_consume_stream(host_.session(), id_, n);
    host_.kick();
}

Task<std::string_view> H2Stream::next(std::size_t limit) {
    start(limit);
    for (;;) {
        if (too_large_) fail(413, "payload_too_large", "Request body too large");
        if (overloaded_) {
            failed_ = true;
            throw HttpError(503, "overloaded", "The server is busy, try again shortly").with_header("Retry-After", "1");
        }
        if (const std::size_t have = in_.size() - in_begin_; have > 0) {
            if (!chunk_) chunk_ = std::make_unique<char[]>(chunk_size);
            const std::size_t n = std::min(have, chunk_size);
            std::memcpy(chunk_.get(), in_.data() + in_begin_, n);
            consume(n);
            co_return std::string_view(chunk_.get(), n);
        }
        if (end_) {
            read_to_end_ = true;
            co_return std::string_view{};
        }
        if (closed_) fail(400, "bad_request", "Request body could not be read");
        // A client below the minimum rate loses its stream, not its connection.
        if (!co_await wait(pace_.begin())) {
            abort(NGHTTP2_CANCEL);
            fail(400, "bad_request", "Request body could not be read");
        }
        pace_.waited();
    }
}

Task<> H2Stream::read_all(std::string& out, std::size_t limit) {
    for (;;) {
        const std::string_view piece = co_await next(limit);
        if (piece.empty()) co_return;
        const std::size_t most = limit == std::numeric_limits<std::size_t>::max() ? limit : limit + 1;
        try {
            grow_body(out, piece.size(), most, charged_, host_.memory_budget());
        } catch (const HttpError&) {
            failed_ = true;
            throw;
        }
        out.append(piece);
    }
}

void H2Stream::submit(const std::vector<nghttp2_nv>& headers, bool head_only) {
    streamed_ = response && response->producer() && !head_only;
    nghttp2_data_provider provider{};
    provider.source.ptr = this;
    provider.read_callback = &H2Stream::read_data;
    nghttp2_submit_response(host_.session(), id_, headers.data(), headers.size(), head_only ? nullptr : &provider);
    host_.kick();
}

ssize_t H2Stream::read_data(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length, std::uint32_t* flags,
                            nghttp2_data_source* source, void*) {
    auto& self = *static_cast<H2Stream*>(source->ptr);
    if (!self.streamed_) {
        const std::string& body = self.response->body();
        const std::size_t n = std::min(length, body.size() - self.body_offset_);
        std::memcpy(buf, body.data() + self.body_offset_, n);
        self.body_offset_ += n;
        if (self.body_offset_ == body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
        return static_cast<ssize_t>(n);
    }
    const std::size_t have = self.out_.size() - self.out_begin_;
    if (have == 0 && !self.out_done_) return NGHTTP2_ERR_DEFERRED;  // resumed by write()
    const std::size_t n = std::min(length, have);
    std::memcpy(buf, self.out_.data() + self.out_begin_, n);
    self.out_begin_ += n;
    if (self.out_begin_ == self.out_.size()) {
        self.out_.clear();
        self.out_begin_ = 0;
        if (self.out_done_) *flags |= NGHTTP2_DATA_FLAG_EOF;
    }
    self.wake();  // the producer may go on
    return static_cast<ssize_t>(n);
}

Task<> H2Stream::write(std::string_view chunk) {
    if (closed_) throw boost::system::system_error(net::error::connection_reset);
    if (chunk.empty()) co_return;
    out_.append(chunk);
    produced_ += chunk.size();
    nghttp2_session_resume_data(host_.session(), id_);
    host_.kick();
    Pace pace(host_.options().write_timeout, host_.options().min_transfer_rate);
    while (out_.size() - out_begin_ > out_high_water) {
        const std::uint64_t before = sent_;
        if (!co_await wait(pace.begin())) {
            abort(NGHTTP2_CANCEL);  // a client that does not open the stream's window loses it
            throw boost::system::system_error(net::error::timed_out);
        }
        pace.moved(static_cast<std::size_t>(sent_ - before));
        if (closed_) throw boost::system::system_error(net::error::connection_reset);
    }
}

Task<bool> H2Stream::run_producer(std::string& failure) {
    try {
        co_await response->producer()(*this);
    } catch (const boost::system::system_error&) {
        co_return false;  // the client reset the stream or stopped reading: nothing failed
    } catch (const std::exception& e) {
        failure = e.what();
        co_return false;
    } catch (...) {
        failure = "unknown exception";
        co_return false;
    }
    if (auto declared = response->stream_length(); declared && *declared != produced_) {
        failure = "streamed body wrote a different length than its declared Content-Length";
        co_return false;
    }
    out_done_ = true;
    if (!closed_) {
        nghttp2_session_resume_data(host_.session(), id_);
        host_.kick();
    }
    co_return true;
}

Task<> H2Stream::until_written() {
    Pace pace(host_.options().write_timeout, host_.options().min_transfer_rate);
    // Not merely until nghttp2 closes the stream: that happens when the last frame is
    // serialized, before the write that carries it — and finish hooks run after the write.
    while (!written_ && !reset_) {
        const std::uint64_t before = sent_;
        if (!co_await wait(pace.begin())) {
            abort(NGHTTP2_CANCEL);
            co_return;
        }
        pace.moved(static_cast<std::size_t>(sent_ - before));
    }
}

}  // namespace spur::detail
