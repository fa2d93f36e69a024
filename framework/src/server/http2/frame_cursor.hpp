#pragma once
// Where the client's bytes stand between HTTP/2 frames. A frame that has begun must be complete
// within header_timeout: a client that trickles one frame (a slowloris on HTTP/2) holds the
// connection otherwise, as nghttp2 waits for a whole frame before it reports anything.

#include <cstddef>
#include <cstdint>

namespace spur::detail {

class FrameCursor {
public:
    /// Walks `size` received bytes: the 24-byte preface, then each frame's 9-byte header and payload.
    void advance(const char* data, std::size_t size) noexcept {
        const auto* p = reinterpret_cast<const std::uint8_t*>(data);
        while (size > 0) {
            if (preface_ > 0) {
                const std::size_t n = size < preface_ ? size : preface_;
                preface_ -= n;
                p += n;
                size -= n;
            } else if (payload_ > 0) {
                const std::size_t n = size < payload_ ? size : payload_;
                payload_ -= n;
                p += n;
                size -= n;
            } else {
                if (have_ < 3) length_ = (length_ << 8) | *p;  // the 24-bit length comes first
                ++p;
                --size;
                if (++have_ == 9) {
                    payload_ = length_;
                    have_ = 0;
                    length_ = 0;
                }
            }
        }
    }
    /// Whether the preface or a frame has begun and is not complete.
    bool mid_frame() const noexcept { return (preface_ > 0 && preface_ < 24) || have_ > 0 || payload_ > 0; }

private:
    std::size_t preface_ = 24;
    std::size_t have_ = 0;  // bytes of the current frame header
    std::size_t length_ = 0;
    std::size_t payload_ = 0;
};

}  // namespace spur::detail
