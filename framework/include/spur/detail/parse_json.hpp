#pragma once
// Parsing a request's JSON body without holding up an I/O thread. Used by the core before a
// route's handler and by middleware::json_body().

#include <spur/request.hpp>
#include <spur/task.hpp>

#include <cstddef>

namespace spur::detail {

/// From this size on a JSON request body is parsed on the blocking pool (spur::offload)
/// instead of the I/O thread: a few megabytes take tens of milliseconds to parse, time in
/// which every other connection of that thread would wait.
inline constexpr std::size_t json_offload_bytes = 256 * 1024;

/// Parses req.body() into the value Request::json() returns (once; later calls return at
/// once), on the blocking pool when the body is json_offload_bytes or larger. Throws
/// HttpError(400, "invalid_json") for a body that is not JSON — nesting deeper than 32 counts
/// as not JSON — and HttpError(503, "overloaded") when the blocking pool's queue is full.
Task<> parse_json(Request& req);

}  // namespace spur::detail
