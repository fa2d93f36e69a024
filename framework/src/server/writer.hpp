#pragma once
// Sends a finished Response over a transport: buffered, streamed with a length, or chunked.

#include "core/finish.hpp"

#include <spur/log.hpp>
#include <spur/response.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <string>

namespace spur::detail {

class Transport;

/// Writes `res` as `framing` says; every single write is bounded by `timeout`. Records the
/// body bytes written with res.bytes_sent(). Returns an error if the peer is gone, too
/// slow, or a streamed body failed or wrote a different length than declared — the
/// connection must then be closed. `head` is scratch space the connection keeps so that
/// the header block needs no allocation.
Task<boost::system::error_code> write_response(Transport& transport, Response& res, const BodyFraming& framing,
                                               std::chrono::milliseconds timeout, const LogSink& log,
                                               const Request& req, std::string& head);

}  // namespace spur::detail
