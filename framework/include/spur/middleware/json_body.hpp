#pragma once
// spur::middleware::json_body — validate and parse JSON request bodies up front.

#include <spur/handler.hpp>

#include <cstddef>

namespace spur::middleware {

/// Options of json_body().
struct JsonBodyOptions {
    std::size_t limit = 1024 * 1024;    ///< larger bodies -> 413
    /// Answer 415 unless Content-Type is application/json or application/*+json. On by
    /// default: it also stops cross-site form posts disguised as text/plain.
    bool require_content_type = true;
};

/// For requests with a body: checks the type (415), size (413) and syntax (400
/// `invalid_json`) before the handler runs, which then reads the cached `req.json()`.
/// Bodiless requests pass untouched. Works on stream_body() routes too (reads up to `limit`).
Middleware json_body(JsonBodyOptions options = {});

}  // namespace spur::middleware
