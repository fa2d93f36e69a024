#pragma once
// Reads the body whole into req.body(), within a limit (for parsers that need it all).

#include "util/media_type.hpp"

#include <spur/http_error.hpp>
#include <spur/request.hpp>

namespace spur::detail {

inline Task<> collect_body(Request& req, std::size_t limit) { co_await req.read_body(limit); }

}  // namespace spur::detail
