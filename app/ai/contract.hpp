#pragma once
// POST /api/texts/:id/summary: what the client may ask, and the events it gets.

#include <spur/types.hpp>

#include <boost/describe/class.hpp>

#include <optional>

namespace app::ai {

struct SummaryQuery {
    std::optional<spur::Int<1, 10>> sentences;  ///< sentences in the summary; default 3
};
BOOST_DESCRIBE_STRUCT(SummaryQuery, (), (sentences))

/// The events of the stream (text/event-stream), as the route's documentation states them.
inline constexpr const char* summary_events =
    "Server-sent events: `sentence` `{\"index\":0,\"text\":\"…\"}` for each sentence as the AI service "
    "finds it, then `done` `{\"sentences\":3,\"cached\":false,\"version\":7}`. A failure after the stream "
    "began is an `error` event `{\"code\":\"ai_error\"|\"ai_timeout\"|\"ai_unavailable\",\"message\":…,"
    "\"request_id\":…,\"trace_id\":…}` and the end of the stream. A summary of the text's current version "
    "that was made before is sent from the database at once (`cached: true`).";

}  // namespace app::ai
