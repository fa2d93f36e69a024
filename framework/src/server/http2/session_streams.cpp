// One stream's life in the session: started once its header block is complete, handled by the
// app in a coroutine of its own, answered, and its hooks run after the write.
#include "server/http2/session.hpp"

#include "server/client_address.hpp"
#include "server/finish.hpp"
#include "server/transport.hpp"
#include "util/exception_message.hpp"

#include <spur/http_error.hpp>
#include <spur/serving.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>

#include <fmt/core.h>

namespace spur::detail {

void H2Session::start(H2Stream& s) {
    // Handlers still running for streams nghttp2 already closed (reset, run_to_completion) count
    // too: resetting streams must not buy a client more handlers than streams.
    if (running_ >= options_.http2.max_concurrent_streams) {
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id(), NGHTTP2_REFUSED_STREAM);
        return;
    }
    Rejection rejection;
    auto message = s.head().finish(rejection);
    auto& req = s.request.emplace(std::move(message), remote_, &s);
    resolve_client(req, server_.trusted_proxies, options_.forwarded_header, transport_.secure());
    s.response.emplace();
    s.spawned = true;
    ++running_;
    const auto id = s.id();
    net::co_spawn(transport_.tcp().get_executor(), serve_stream(&s, rejection),
                  net::bind_cancellation_slot(s.cancel.slot(), [self = shared_from_this(), id](std::exception_ptr failure) {
                      if (failure)
                          self->log()(LogRecord{.level = LogLevel::error,
                                                .message = fmt::format("HTTP/2 stream ended by exception: {}",
                                                                       exception_message(failure))});
                      self->stream_done(id);
                  }));
}

// One stream: the app, the answer, the hooks after it is written — as Connection::serve_one
// does for an HTTP/1.1 request.
Task<> H2Session::serve_stream(H2Stream* stream, Rejection rejection) {
    auto& s = *stream;
    auto& req = *s.request;
    auto& res = *s.response;
    s.handling = true;
    if (rejection) {
        const HttpError error(rejection.status, rejection.code, rejection.message);
        co_await Serving(server_.app).refuse(req, res, error);
    } else {
        co_await server_.app.handle(req, res);
    }
    // 101 and 426 ask for a protocol upgrade (a ws route), which HTTP/2 cannot carry: the stream
    // is refused with HTTP_1_1_REQUIRED, and the client retries over HTTP/1.1 (RFC 9113 §8.6).
    const bool http11_only = !s.reset() && (res.status() == 101 || res.status() == 426);
    if (http11_only) s.stop(NGHTTP2_HTTP_1_1_REQUIRED);
    if (!s.reset() && !http11_only) {
        const bool head = req.method() == "HEAD";
        const auto framing = finish_response(res, 11, head, true);
        const bool body = framing.send_body && (framing.stream || !res.body().empty());
        s.submit(head_.build(res, framing), !body);
        if (framing.stream) {
            std::string failure;
            if (!co_await s.run_producer(failure)) {
                if (!failure.empty())
                    log()(LogRecord{.level = LogLevel::error,
                                    .message = fmt::format("streamed body failed after headers were sent: {}", failure),
                                    .request_id = req.id(),
                                    .trace_id = req.trace().trace_id_hex()});
                s.abort(failure.empty() ? NGHTTP2_CANCEL : NGHTTP2_INTERNAL_ERROR);
            }
        }
    }
    s.handling = false;
    if (!s.reset() && !http11_only) co_await s.until_written();
    // The answer is complete and the client still sends a body nobody read: stop it (RFC 9113
    // §8.1), the stream's window is not reopened anyway.
    if (!s.reset() && !http11_only && !s.body_ended()) s.stop(NGHTTP2_NO_ERROR);
    if (s.reset()) {
        co_await net::this_coro::reset_cancellation_state();
        res.status(499);
    }
    res.bytes_sent(s.sent());
    run_finish_hooks(req, res, log());
    state_.fresh.store(false, std::memory_order_relaxed);
}

void H2Session::stream_done(std::int32_t id) {
    --running_;
    auto it = streams_.find(id);
    if (it != streams_.end()) {
        // nghttp2 may still hold the stream (a RST_STREAM or the answer's last frame queued,
        // its data source pointing here): it goes with on_stream_close, or with the session.
        if (nghttp2_session_find_stream(session_, id) != nullptr) it->second->done = true;
        else erase(id);
    }
    kick();
    done_waiting();
}

}  // namespace spur::detail
