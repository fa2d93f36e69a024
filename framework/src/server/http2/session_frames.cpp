// nghttp2's callbacks: a frame's header (the flood limits), a request's header block, DATA,
// what was sent, a stream's close. They run inside nghttp2_session_mem_recv/mem_send, on the
// connection's thread.
#include "server/http2/session.hpp"

#include "server/transport.hpp"

#include <algorithm>

namespace spur::detail {

namespace {
// WINDOW_UPDATEs the DATA frames sent so far may earn the client, at most.
constexpr std::uint32_t window_credit_cap = 10'000;

H2Session& self_of(void* p) noexcept { return *static_cast<H2Session*>(p); }
}  // namespace

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

}  // namespace spur::detail
