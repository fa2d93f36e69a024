#pragma once
// Sends a finished Response over a transport: buffered, streamed with a length, or chunked.

#include "server/finish.hpp"
#include "util/net.hpp"

#include <spur/log.hpp>
#include <spur/response.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <string>

namespace spur::detail {

class Transport;

/// Writes `res` as `framing` says, after the bytes in `before` (held pipelined responses)
/// and in the same write as its head; every write must keep the transport's minimum rate
/// with `timeout` to spare (Transport::write). Records
/// the body bytes written with res.bytes_sent(). Returns an error if the peer is gone, too
/// slow, or a streamed body failed or wrote a different length than declared — the
/// connection must then be closed. `head` is scratch space the connection keeps so that
/// the header block needs no allocation.
Task<boost::system::error_code> write_response(Transport& transport, Response& res, const BodyFraming& framing,
                                               std::chrono::milliseconds timeout, const LogSink& log,
                                               const Request& req, std::string& head, net::const_buffer before = {});

/// Appends the status line and header block of a framed response to `out`: the header's
/// fields, then the framing's wire fields.
void append_head(const http::response_header<>& h, const BodyFraming::WireFields& wire, std::string& out);

}  // namespace spur::detail
