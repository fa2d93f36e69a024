#pragma once
// One HTTP/2 connection: nghttp2's session between the socket and the streams. A reader feeds
// what arrives to nghttp2 (whose callbacks open streams and hand them their frames), a writer
// sends what nghttp2 has queued in one write per batch, and a watch ends the connection when
// the client idles or stalls a header block. Each stream is handled in a coroutine of its own,
// on the connection's thread.

#include "server/connection.hpp"
#include "server/http2/flood_guard.hpp"
#include "server/http2/frame_cursor.hpp"
#include "server/http2/response_head.hpp"
#include "server/http2/stream.hpp"

#include <boost/asio/steady_timer.hpp>

#include <nghttp2/nghttp2.h>

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace spur::detail {

class H2Session final : public H2Host, public Drainable, public std::enable_shared_from_this<H2Session> {
public:
    H2Session(ServerContext& server, ConnectionState& state, Transport& transport);
    ~H2Session();
    H2Session(const H2Session&) = delete;
    H2Session& operator=(const H2Session&) = delete;

    /// Serves the connection until it ends; returns once every stream's handler has finished.
    Task<> run(std::string already_read);
    /// GOAWAY (NO_ERROR): no new streams; the open ones finish, then the connection closes.
    void drain() override;

    // H2Host
    nghttp2_session* session() noexcept override { return session_; }
    void kick() noexcept override;
    const ServerOptions& options() const noexcept override { return options_; }
    MemoryBudget memory_budget() const noexcept override;

private:
    using clock = std::chrono::steady_clock;

    // nghttp2's callbacks (user data: the H2Session).
    static int on_begin_frame(nghttp2_session*, const nghttp2_frame_hd* hd, void* self);
    static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* self);
    static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name, std::size_t name_size,
                         const std::uint8_t* value, std::size_t value_size, std::uint8_t flags, void* self);
    static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* self);
    static int on_data_chunk_recv(nghttp2_session*, std::uint8_t flags, std::int32_t stream_id, const std::uint8_t* data,
                                  std::size_t size, void* self);
    static int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* self);
    static int on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t error_code, void* self);

    net::mutable_buffer read_target();
    // Feeds received bytes to nghttp2; false once the connection must end.
    bool receive(const char* data, std::size_t size);
    // Past a flood limit: GOAWAY ENHANCE_YOUR_CALM; the reader stops.
    int calm();
    void calm_soon() noexcept;
    void erase(std::int32_t id);
    H2Stream* stream(std::int32_t id) noexcept;
    void start(H2Stream& stream);
    Task<> serve_stream(H2Stream* stream, Rejection rejection);
    void stream_done(std::int32_t id);
    Task<> write_loop();
    Task<> watch_loop();
    clock::time_point deadline() const noexcept;
    clock::time_point read_deadline() const noexcept;
    void update_deadline() noexcept;
    // Ends the connection: the reader's pending read is cancelled.
    void end() noexcept;
    void done_waiting() noexcept;
    const LogSink& log() const noexcept;

    ServerContext& server_;
    const ServerOptions& options_;
    ConnectionState& state_;
    Transport& transport_;
    std::string remote_;
    nghttp2_session* session_ = nullptr;
    std::unordered_map<std::int32_t, std::unique_ptr<H2Stream>> streams_;
    std::uint32_t running_ = 0;  // streams whose handler coroutine has not finished
    ResponseHead head_;

    // The writer: woken by kick(), sends nghttp2's queued frames in one write per batch.
    net::steady_timer wake_;
    bool writer_idle_ = false;
    bool writer_done_ = false;
    std::string out_;
    std::vector<std::int32_t> ended_;  // streams whose last frame is in out_

    // The watch: idle and header-block deadlines.
    net::steady_timer watch_;
    clock::time_point armed_for_{};
    bool watch_done_ = false;
    bool writing_ = false;  // a write waits on the client, until write_deadline_
    clock::time_point write_deadline_{};
    bool idle_goaway_ = false;  // idle past idle_timeout: GOAWAY sent, the connection ends
    clock::time_point idle_since_;
    clock::time_point block_started_{};
    bool in_block_ = false;        // a header block has begun and not ended
    FrameCursor cursor_;           // whether a frame has begun and not ended
    clock::time_point frame_started_{};
    bool greeted_ = false;         // the client's SETTINGS arrived (after its preface)
    std::size_t block_bytes_ = 0;  // encoded bytes of the header block so far
    std::uint32_t continuations_ = 0;

    TokenBucket resets_;
    TokenBucket control_;
    std::uint32_t window_credit_ = 0;  // WINDOW_UPDATEs not counted as control frames
    bool calm_ = false;
    bool draining_ = false;
    bool ending_ = false;
    bool peer_left_ = false;
    net::steady_timer finished_;  // wakes run() when the last stream or loop ends
    std::array<char, 1024> small_buffer_;  // reads of an idle connection
    std::unique_ptr<char[]> big_buffer_;    // reads of a busy one (16 KiB)
};

}  // namespace spur::detail
