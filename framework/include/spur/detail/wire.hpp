#pragma once
// spur::detail::Wire — the transport's side of one request, for whoever writes a transport.

#include <spur/detail/memory_budget.hpp>
#include <spur/router.hpp>
#include <spur/task.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace spur::detail {

/// What the core asks of the transport a request came from: its body, still on the wire until
/// something asks for it, and a call when handling first has to wait (the server only then
/// starts watching for a client that leaves, so a request answered at once costs nothing
/// extra). spur's server and testing::Client implement it; a Request made without one has its
/// whole body in the message.
class Wire {
public:
    /// Whether the whole body is already in the request's message (or there is none).
    virtual bool body_complete() const noexcept = 0;
    /// The body limit that applies when the route sets none (ServerOptions::max_body_bytes).
    virtual std::size_t default_limit() const noexcept = 0;
    /// The next piece of the body, or "" at its end; valid until the next call. `limit` caps
    /// the whole body. Throws HttpError(413) past it and HttpError(400) for broken framing or
    /// a client that stops sending.
    virtual Task<std::string_view> next(std::size_t limit) = 0;
    /// Appends the rest of the body to `out`, under `limit` and one body timeout; throws as next().
    virtual Task<> read_all(std::string& out, std::size_t limit) = 0;
    /// Where memory the body turns into (a parsed JSON tree) is counted: the server's budget
    /// for buffered bodies. Nothing is counted by default.
    virtual MemoryBudget memory_budget() const noexcept { return {}; }
    /// Told once, when the app's handling of the request first suspends.
    virtual void handling_suspends() noexcept {}
    /// A ws route asks the transport to run `handler` on the connection once its 101 answer
    /// is final and written (RFC 6455's handshake is the transport's). False when the
    /// transport cannot; the answer is then an ordinary 101.
    virtual bool upgrade(std::shared_ptr<const WsHandler> handler) noexcept {
        (void)handler;
        return false;
    }

protected:
    ~Wire() = default;
};

/// The wire `req` was made with, or nullptr: for features that talk to the transport.
Wire* wire_of(const Request& req) noexcept;

}  // namespace spur::detail
