#pragma once
// spur::middleware::etag — weak ETags on dynamic responses, and 304 for a client that has them.

#include <spur/handler.hpp>

namespace spur::middleware {

/// After the handler: a 200 answer to GET or HEAD with a buffered body gets a weak ETag
/// computed from the body (W/"<length>-<SHA-1, base64url>", the shape Express sends), unless the
/// handler set one; when the request's If-None-Match names the ETag, the answer becomes a
/// 304 without a body. Streamed bodies and other statuses or methods pass untouched.
/// The hash costs about one pass over the body; put it on routes whose answers are worth
/// revalidating, or app-wide.
Middleware etag();

}  // namespace spur::middleware
