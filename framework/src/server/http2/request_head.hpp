#pragma once
// An HTTP/2 request's header block, field by field as nghttp2 decodes it, into the HTTP/1.1-shaped
// message the app handles — under the HTTP/1.1 limits, so that a stream is refused exactly where
// a request line or header block would be.

#include "server/framing.hpp"

#include <spur/request.hpp>
#include <spur/server.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace spur::detail {

/// Collects one stream's header fields (nghttp2 has already checked their syntax, the pseudo
/// fields and the connection-specific fields RFC 9113 §8.2.2 forbids). Past a limit the rest is
/// counted but not kept, and the stream is answered with the rejection (414 or 431).
class RequestHead {
public:
    explicit RequestHead(const ServerOptions& options) noexcept : options_(options) {}

    /// One decoded field, pseudo (":method") or regular, in the order received.
    void add(std::string_view name, std::string_view value);
    /// The message, once the header block is complete: :method, :path and :authority become
    /// the method, target and Host; cookie fields are joined with "; " (RFC 9113 §8.2.3); the
    /// version is 20. Sets `rejection` for what spur refuses before routing (CONNECT 501, a
    /// :path that is not origin-form 400, a Host other than :authority 400, a limit 414/431).
    Request::Message finish(Rejection& rejection);
    /// Bytes of names and values decoded so far, kept or not (an HPACK bomb's measure).
    std::size_t decoded() const noexcept { return decoded_; }
    /// Whether the request said Expect: 100-continue.
    bool expects_continue() const noexcept { return expect_continue_; }

private:
    const ServerOptions& options_;
    Request::Message message_;
    std::string method_;
    std::string path_;
    std::string authority_;
    std::string cookie_;
    std::string host_;
    std::size_t bytes_ = 0;
    std::size_t fields_ = 0;
    std::size_t decoded_ = 0;
    bool expect_continue_ = false;
    Rejection rejection_;
};

}  // namespace spur::detail
