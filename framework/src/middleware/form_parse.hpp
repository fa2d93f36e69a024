#pragma once
// Form bodies already in memory, parsed into a FormData: what middleware::urlencoded() does
// after collecting the body, and what spur::Form<T> does with a buffered route's body.

#include <spur/form_data.hpp>
#include <spur/request.hpp>
#include <spur/task.hpp>
#include <spur/middleware/multipart.hpp>
#include <spur/middleware/urlencoded.hpp>

#include <memory>
#include <string_view>

namespace spur::detail {

/// `a=1&b=x+y` as fields. Throws HttpError 413 past options.limit bytes or options.max_fields.
std::shared_ptr<FormData> parse_urlencoded(std::string_view body, const middleware::UrlencodedOptions& options);

/// A whole multipart/form-data body (`content_type` carries the boundary) with every file in
/// memory. Throws HttpError 400 for a missing boundary or a malformed or truncated body, 413
/// past options' limits (memory_threshold and temp_dir are not used).
std::shared_ptr<FormData> parse_multipart(std::string_view body, std::string_view content_type,
                                          const middleware::MultipartOptions& options);

/// Reads a multipart/form-data body as it arrives (read_body_chunk), files past
/// options.memory_threshold spooled to 0600 temporary files on the blocking pool, into
/// spur::form_data(req). Throws HttpError 400 (boundary, malformed, truncated) and 413 (limits).
/// `options` by value: the coroutine outlives the call that made it.
Task<> read_multipart(Request& req, middleware::MultipartOptions options);

}  // namespace spur::detail
