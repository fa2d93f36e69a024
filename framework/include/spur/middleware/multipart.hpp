#pragma once
// spur::middleware::multipart — multipart/form-data uploads into spur::form_data(), large files on disk.

#include <spur/form_data.hpp>
#include <spur/handler.hpp>

#include <cstddef>
#include <filesystem>

namespace spur::middleware {

/// Options of multipart(). Every limit answers 413 when exceeded.
struct MultipartOptions {
    std::size_t max_parts = 100;
    std::size_t max_field_bytes = 64 * 1024;         ///< per plain (non-file) field
    std::size_t max_file_bytes = 10 * 1024 * 1024;   ///< per file
    std::size_t max_total_bytes = 50 * 1024 * 1024;  ///< the whole body (the route's body_limit applies too)
    std::size_t memory_threshold = 64 * 1024;        ///< files larger than this are spooled to disk
    std::filesystem::path temp_dir;                  ///< default: the system temp directory
};

/// Parses multipart/form-data as it arrives. Use it on a stream_body() route with a
/// body_limit to match, so uploads never sit in memory whole:
///     app.post("/upload", multipart(), handler).stream_body().body_limit(50 << 20);
/// Files above memory_threshold go to 0600 temp files, written on the blocking pool and
/// deleted with the request. Malformed bodies answer 400; other content types pass untouched.
Middleware multipart(MultipartOptions options = {});

}  // namespace spur::middleware
