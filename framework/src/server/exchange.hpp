#pragma once
// One request on the wire: the parser that reads it, the Request and the Response, in one
// block whose memory each I/O thread recycles.

#include <spur/request.hpp>
#include <spur/response.hpp>

#include "util/net.hpp"

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <memory>
#include <optional>

namespace spur::detail {

using RequestParser = http::request_parser<http::buffer_body>;

/// Lives from the first byte of a request's header until its response is written — past
/// the connection's turn for it when the response waits in a pipelined batch.
struct Exchange {
    RequestParser parser;
    std::optional<Request> request;    ///< once the header parsed and passed spur's checks
    std::optional<Response> response;  ///< with the request

    /// A new Exchange in recycled memory. Its ~1 KiB is above what Asio's coroutine-frame
    /// recycler (1020 bytes) and glibc's per-thread cache keep, and a malloc of that size
    /// also makes glibc consolidate its small free chunks: together 10–15% of a pipelined
    /// request's CPU. Each thread keeps a few freed blocks; idle connections keep none.
    static std::unique_ptr<Exchange, void (*)(Exchange*)> make();
};

using ExchangePtr = std::unique_ptr<Exchange, void (*)(Exchange*)>;

}  // namespace spur::detail
