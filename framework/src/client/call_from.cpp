// What a call made while handling a request inherits from it: the trace and the time left.
#include <spur/http_client.hpp>

#include <spur/middleware/timeout.hpp>
#include <spur/request.hpp>

#include <algorithm>

namespace spur {

CallOptions call_from(const Request& req, std::chrono::milliseconds at_most, std::chrono::milliseconds margin) {
    CallOptions call;
    auto deadline = std::chrono::steady_clock::now() + at_most;
    // What is left of the handler's own budget, less the time its answer needs: a call that
    // cannot finish before the handler is cut off would only hold the other service's resources.
    if (const auto handler_deadline = middleware::deadline_of(req)) deadline = std::min(deadline, *handler_deadline - margin);
    call.deadline(deadline);
    const auto& trace = req.trace();
    call.trace(trace.child_traceparent(), trace.tracestate);
    return call;
}

}  // namespace spur
