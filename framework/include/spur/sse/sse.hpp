#pragma once
// spur::EventStream — server-sent events (text/event-stream), started with spur::sse(req, res, handler).

#include <spur/request.hpp>
#include <spur/sse/event.hpp>
#include <spur/response.hpp>
#include <spur/task.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace spur {

/// Settings of spur::sse().
struct SseOptions {
    /// A comment line is sent when nothing else was for this long, so that proxies do not
    /// time the stream out and a client that left is noticed; 0 turns it off.
    std::chrono::milliseconds keep_alive{15'000};
    /// Sent first, as `retry:` — how long the browser waits before reconnecting.
    std::optional<std::chrono::milliseconds> retry{};
    /// The last event of a stream ended by a drain, after the handler is cancelled; the
    /// client's EventSource then reconnects (to another instance, behind a load balancer).
    std::optional<Event> farewell = Event{"server shutting down", "shutdown", {}, std::nullopt};
};

/// The open stream a spur::sse() handler writes to. Lives as long as the handler runs.
class EventStream {
public:
    class Impl;
    explicit EventStream(Impl& impl) noexcept : impl_(impl) {}

    /// Sends `event`. Completes once it is handed to the connection: a reader that does not
    /// keep up makes it wait, so memory stays bounded by one event; past the server's
    /// write_timeout the client is dropped and send() throws boost::system::system_error.
    /// Throws std::invalid_argument if `event` or `id` holds CR or LF, or `id` a NUL.
    Task<> send(const Event& event);
    /// Sends a message event with just `data`.
    Task<> send(std::string_view data);
    /// Sends a comment line (": text"), which EventSource ignores.
    Task<> comment(std::string_view text);
    /// The Last-Event-ID header of the request ("" on a first connection): resume after it.
    std::string_view last_event_id() const noexcept;
    /// Events sent so far.
    std::uint64_t sent() const noexcept;

private:
    Impl& impl_;
};

/// Answers with a stream of server-sent events (text/event-stream): `handler` runs once the
/// headers are out and sends events until it returns. Keep-alive comments, the client's
/// Last-Event-ID, backpressure and the final event on a drain are described with SseOptions.
/// `req` gives the Last-Event-ID and the app whose drain ends the stream; it is read here, not
/// kept. Throws std::invalid_argument for an empty handler or a malformed farewell event.
Response& sse(const Request& req, Response& res, std::function<Task<>(EventStream&)> handler);
Response& sse(const Request& req, Response& res, SseOptions options, std::function<Task<>(EventStream&)> handler);

/// The wire form of `event` (for tests and for writing events by hand).
std::string format_event(const Event& event);

}  // namespace spur
