#pragma once
// A finished Response as HTTP/2's header list.

#include "server/finish.hpp"
#include "util/net.hpp"

#include <spur/response.hpp>

#include <nghttp2/nghttp2.h>

#include <string>
#include <vector>

namespace spur::detail {

/// Builds the header list nghttp2_submit_response takes (it copies it), reusing its memory
/// from one response to the next.
class ResponseHead {
public:
    /// :status, then the response's fields with lowercase names — less the connection-specific
    /// ones RFC 9113 §8.2.2 forbids (Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding,
    /// Upgrade) — then the framing's wire fields (Date, Server, Content-Length). Valid until the
    /// next call; the values point into `res`.
    const std::vector<nghttp2_nv>& build(const Response& res, const BodyFraming& framing);

private:
    std::string text_;
    std::vector<nghttp2_nv> list_;
};

}  // namespace spur::detail
