#pragma once
// Sends a finished Response over a stream: buffered, streamed with a length, or chunked.

#include "finish.hpp"
#include "net.hpp"

#include <spur/log.hpp>
#include <spur/response.hpp>

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <string>

namespace spur::detail {

/// Writes `res` as `framing` says; every single write is bounded by `timeout`.
/// Returns an error if the peer is gone, too slow, or a streamed body failed or wrote
/// a different length than declared — the connection must then be closed. `head` is
/// scratch space the connection keeps so that the header block needs no allocation.
/// Instantiated for beast::tcp_stream and beast::ssl_stream<beast::tcp_stream&>.
template <class Stream>
Task<boost::system::error_code> write_response(Stream& stream, Response& res, const BodyFraming& framing,
                                               std::chrono::milliseconds timeout, const LogSink& log,
                                               std::string& head);

}  // namespace spur::detail
