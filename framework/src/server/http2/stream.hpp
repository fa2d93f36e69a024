#pragma once
// One HTTP/2 stream: its request head as it is decoded, its body as DATA frames arrive (the
// request's Wire), and its response's body as DATA frames leave (nghttp2's data source, and the
// BodyWriter of a streamed answer). Runs on its connection's thread only.

#include "server/http2/request_head.hpp"
#include "server/pace.hpp"
#include "util/net.hpp"

#include <spur/detail/wire.hpp>
#include <spur/request.hpp>
#include <spur/response.hpp>
#include <spur/server.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace spur::detail {

/// What a stream reaches of its connection.
class H2Host {
public:
    virtual nghttp2_session* session() noexcept = 0;
    /// Frames are waiting to be written: wakes the connection's writer.
    virtual void kick() noexcept = 0;
    virtual const ServerOptions& options() const noexcept = 0;
    /// The server's budget for buffered bodies, with this client's share.
    virtual MemoryBudget memory_budget() const noexcept = 0;

protected:
    ~H2Host() = default;
};

class H2Stream final : public Wire, public BodyWriter {
public:
    H2Stream(H2Host& host, std::int32_t id, const net::any_io_executor& executor);
    ~H2Stream();
    H2Stream(const H2Stream&) = delete;
    H2Stream& operator=(const H2Stream&) = delete;

    std::int32_t id() const noexcept { return id_; }
    RequestHead& head() noexcept { return head_; }

    // From the connection's nghttp2 callbacks.
    /// A DATA frame's payload. Past the route's limit, or past the server's budget, it is
    /// dropped and the handler's next read fails (413, 503); nothing is held beyond the
    /// stream's window either way.
    void received(const std::uint8_t* data, std::size_t size);
    /// END_STREAM arrived: the body is complete (with `no_body` when it came on HEADERS).
    void end_of_body(bool no_body) noexcept;
    /// nghttp2 closed the stream; before its answer's end went out that is a reset (the client's
    /// RST_STREAM, or the connection ending), which cancels the handler as a disconnect does.
    void closed() noexcept;
    /// Serialized for the socket: `size` bytes of DATA payload, or the frame ending the answer.
    void data_sent(std::size_t size) noexcept;
    void end_sent() noexcept { end_sent_ = true; }
    /// The write carrying the answer's end reached the socket.
    void written() noexcept;
    /// The connection ended: an answer not yet written never will be.
    void lost() noexcept;

    /// Whether the client reset the stream (or the connection ended) before the answer's end.
    bool reset() const noexcept { return reset_; }
    /// Whether the answer's end reached the socket.
    bool finished() const noexcept { return written_; }
    /// Whether END_STREAM arrived from the client.
    bool body_ended() const noexcept { return end_; }

    /// Submits the finished response: HEADERS, then DATA from the buffered body or from the
    /// producer (run by run_producer()). `head_only` for HEAD, 204, 304.
    void submit(const std::vector<nghttp2_nv>& headers, bool head_only);
    /// Runs a streamed answer's producer; false if it failed (logged by the caller with `failure`).
    Task<bool> run_producer(std::string& failure);
    /// Waits until the answer's end is written, or the stream is reset, under the minimum
    /// transfer rate (a client that never opens the stream's window gets RST_STREAM CANCEL).
    Task<> until_written();
    /// Cancels the stream from this side (RST_STREAM with `error_code`); its hooks see 499.
    void abort(std::uint32_t error_code) noexcept;

    /// Ends the stream from this side without counting it as reset: RST_STREAM NO_ERROR for a
    /// body nobody will read once the answer is written, HTTP_1_1_REQUIRED for an upgrade.
    void stop(std::uint32_t error_code) noexcept;
    /// DATA payload bytes of the answer serialized so far.
    std::uint64_t sent() const noexcept { return sent_; }

    std::optional<Request> request;
    std::optional<Response> response;
    /// Its handler was started; and it finished (the session erases it once nghttp2 is done).
    bool spawned = false;
    bool done = false;
    bool reset_by_client = false;  ///< a RST_STREAM came from the client
    /// Bound to the handler's coroutine: emitted (terminal) by closed() while it runs.
    net::cancellation_signal cancel;
    bool handling = false;

    // Wire: the request's body.
    bool body_complete() const noexcept override { return no_body_ || read_to_end_; }
    std::size_t default_limit() const noexcept override { return host_.options().max_body_bytes; }
    Task<std::string_view> next(std::size_t limit) override;
    Task<> read_all(std::string& out, std::size_t limit) override;
    MemoryBudget memory_budget() const noexcept override { return host_.memory_budget(); }

    // BodyWriter: a streamed answer's pieces, held until nghttp2 sends them (at most
    // chunk_size beyond the piece being written: the producer waits for the client).
    Task<> write(std::string_view chunk) override;

private:
    static ssize_t read_data(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                             std::uint32_t* flags, nghttp2_data_source* source, void*);
    void start(std::size_t limit);
    void consume(std::size_t n) noexcept;
    [[noreturn]] void fail(int status, const char* code, const char* message);
    // Waits for wake() within `allowance`; false if the allowance passed first.
    Task<bool> wait(std::chrono::steady_clock::duration allowance);
    void wake() noexcept { event_.cancel(); }

    H2Host& host_;
    std::int32_t id_;
    RequestHead head_;
    net::steady_timer event_;  // wakes a body read, the producer or until_written()

    // The request body: bytes received and not yet read, in [in_begin_, in_.size()).
    std::string in_;
    std::size_t in_begin_ = 0;
    std::size_t in_charged_ = 0;  // of in_, counted in the server's budget
    std::size_t limit_ = 0;
    std::uint64_t received_ = 0;
    std::size_t charged_ = 0;  // read_all's buffer, counted in the server's budget
    std::unique_ptr<char[]> chunk_;
    Pace pace_;
    bool started_ = false;
    bool no_body_ = false;
    bool end_ = false;
    bool read_to_end_ = false;
    bool too_large_ = false;
    bool overloaded_ = false;
    bool failed_ = false;
    bool continue_sent_ = false;

    // The answer's body: a buffered one is read from the response, a streamed one from out_.
    bool streamed_ = false;
    std::size_t body_offset_ = 0;
    std::string out_;
    std::size_t out_begin_ = 0;
    bool out_done_ = false;
    std::uint64_t produced_ = 0;
    std::uint64_t sent_ = 0;
    bool end_sent_ = false;
    bool written_ = false;
    bool closed_ = false;
    bool reset_ = false;
    bool stopped_ = false;  // ended by stop(): not a reset
};

}  // namespace spur::detail
