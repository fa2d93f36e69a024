#pragma once
// Sends a finished Response over a transport: buffered, streamed with a length, or chunked.

#include "server/finish.hpp"
#include "util/net.hpp"

#include <spur/log.hpp>
#include <spur/response.hpp>

#include <boost/system/error_code.hpp>

#include <algorithm>
#include <chrono>
#include <string>

namespace spur::detail {

class Transport;

/// Sends the connection's responses over its transport. It keeps the scratch the header block
/// is built in, so a response's head needs no allocation.
class ResponseWriter {
public:
    /// Every write must keep the transport's minimum rate with `timeout` to spare
    /// (Transport::write); failures of streamed bodies are reported through `log`.
    ResponseWriter(Transport& transport, std::chrono::milliseconds timeout, const LogSink& log) noexcept
        : transport_(transport), timeout_(timeout), log_(log) {}

    /// Writes `res` as `framing` says, after the bytes in `before` (held pipelined responses)
    /// and in the same write as its head. Records the body bytes written with
    /// res.bytes_sent(). Returns an error if the peer is gone, too slow, or a streamed body
    /// failed or wrote a different length than declared (logged with `req`'s id) — the
    /// connection must then be closed.
    Task<boost::system::error_code> write(Response& res, const BodyFraming& framing, const Request& req,
                                          net::const_buffer before = {});
    /// Lowers the allowance of the writes that follow to at most `most`.
    void limit_timeout(std::chrono::milliseconds most) noexcept { timeout_ = std::min(timeout_, most); }
    /// Frees the header scratch (an idle connection does not need it).
    void release() noexcept { std::string().swap(head_); }

private:
    Transport& transport_;
    std::chrono::milliseconds timeout_;
    const LogSink& log_;
    std::string head_;
};

/// Appends the status line and header block of a framed response to `out`: the header's
/// fields, the preset fields' bytes (`preset`), then the framing's wire fields.
void append_head(const http::response_header<>& h, std::string_view preset, const BodyFraming::WireFields& wire,
                 std::string& out);

}  // namespace spur::detail
