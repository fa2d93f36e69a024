#pragma once
// spur::middleware::static_files — serve a directory (express.static, Flask's static folder).

#include <spur/handler.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

namespace spur::middleware {

/// Options of static_files().
struct StaticOptions {
    std::string index = "index.html";           ///< served for a directory; "" answers 404 instead
    std::chrono::seconds max_age{0};            ///< Cache-Control: public, max-age=N
    bool immutable = false;                     ///< adds ", immutable" (for fingerprinted assets)
    bool etag = true;                           ///< weak ETag from size and mtime
    bool last_modified = true;
    bool dotfiles = false;                      ///< serve names starting with '.' (".env"!) — off: 404
    /// Serve "<file>.gz", when it exists beside the file, with Content-Encoding: gzip to clients
    /// that accept it (as nginx's gzip_static): compressed once at build time, not per request.
    bool precompressed = false;
};

/// A handler serving files below `root` for a route ending in a wildcard:
///     app.get("/assets/*path", spur::middleware::static_files("./public"));
/// Sends Content-Type by extension, ETag/Last-Modified with 304 on If-None-Match /
/// If-Modified-Since, single byte ranges (206, or 416 when unsatisfiable), and streams the
/// file in 64 KiB chunks read on the I/O thread (from the page cache, as nginx does without
/// aio threads) — not through spur::offload, whose queue CPU work such as password hashing
/// uses: downloads never take its slots. A directory gets its index file
/// (redirecting "/dir" to "/dir/" first). Traversal is refused: ".." segments (also when
/// percent-encoded) and paths resolving outside `root` through symlinks are 404; backslashes
/// and NUL bytes are 400. Throws std::invalid_argument if `root` is not a directory.
Handler static_files(std::filesystem::path root, StaticOptions options = {});

/// The Content-Type spur sends for a file name ("a.css" -> "text/css; charset=utf-8").
std::string_view mime_type(std::string_view filename) noexcept;

}  // namespace spur::middleware
