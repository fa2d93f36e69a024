#pragma once
// spur::middleware::compression — gzip/deflate response bodies with zlib.

#include <spur/handler.hpp>

#include <cstddef>
#include <functional>
#include <string_view>

namespace spur::middleware {

/// Options of compression().
struct CompressionOptions {
    std::size_t threshold = 1024;  ///< smaller bodies are sent as they are
    int level = 6;                 ///< zlib level 1 (fast) .. 9 (small)
    /// Which Content-Types to compress; default: text/*, JSON, JavaScript, XML, SVG, and +json/+xml types.
    std::function<bool(std::string_view content_type)> compressible;
    /// Bodies larger than this are compressed on the blocking pool, off the I/O threads.
    std::size_t offload_above = 64 * 1024;
};

/// Compresses buffered bodies of compressible types above the threshold with the best
/// encoding the client accepts (Accept-Encoding with q-values; gzip preferred over deflate),
/// and adds `Vary: Accept-Encoding`. Skips HEAD, 1xx/204/206/304, bodies that already have a
/// Content-Encoding, `Cache-Control: no-transform`, streamed bodies, and results that would
/// not be smaller. A strong ETag becomes weak, as the bytes changed.
Middleware compression(CompressionOptions options = {});

}  // namespace spur::middleware
