#pragma once
// A request's body as it arrives on the wire (WireBody), or the nothing left of one that came
// with its header (WholeBody): the transport's side of a Request (spur::detail::Wire).

#include "server/exchange.hpp"
#include "server/pace.hpp"
#include "util/net.hpp"

#include <spur/detail/wire.hpp>
#include <spur/server.hpp>

#include <boost/beast/core/flat_buffer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace spur::detail {

/// The connection as a request sees it: the bytes read so far, how to get more, and what it
/// must hear of the request's handling. The connection implements it; nothing else of the
/// connection is reachable from a body.
class Inbound {
public:
    virtual const ServerOptions& options() const noexcept = 0;
    /// Read and not yet parsed: the start of the body may be here already. Bounded.
    virtual beast::flat_buffer& buffer() noexcept = 0;
    /// Reads more of the request into buffer() within `allowance`, after what the client may
    /// be waiting for (held pipelined answers, 100 Continue); false if that failed (the
    /// client left, or stayed below the minimum rate).
    virtual Task<bool> read_more(std::chrono::steady_clock::duration allowance) = 0;
    /// Whether the client asked for 100 Continue and has not had it: it may or may not send
    /// the body now.
    virtual bool continue_owed() const noexcept = 0;
    /// Scratch for the pieces read_body_chunk() hands out; valid while the connection lives.
    virtual char* chunk_buffer() = 0;
    /// The server's budget for buffered bodies, with this client's share.
    virtual MemoryBudget memory_budget() const noexcept = 0;
    /// The whole request is in: a close from now on is the client leaving.
    virtual void request_read() noexcept = 0;
    /// Wire::handling_suspends and Wire::upgrade, for the request being handled.
    virtual void handling_suspends() noexcept = 0;
    virtual void upgrade(std::shared_ptr<const WsHandler> handler) noexcept = 0;

protected:
    ~Inbound() = default;
};

/// Pieces of a streamed body (read_body_chunk) are at most this large.
inline constexpr std::size_t chunk_size = 16 * 1024;

/// Gives a buffered body `out` room for `more` bytes: by half again, never beyond `most`, and
/// counted against `budget` past its first 16 KiB (`charged` is what the body has counted so
/// far; the owner gives it back). Throws HttpError(503, "overloaded") when the budget or the
/// client's share of it is spent. Shared by the HTTP/1.1 and HTTP/2 bodies.
void grow_body(std::string& out, std::size_t more, std::size_t most, std::size_t& charged, const MemoryBudget& budget);

/// The body of one request as it arrives on the wire: read when the app first asks for it
/// (Request::read_body / read_body_chunk), under the route's limit, the server's budget for
/// buffered bodies and the minimum transfer rate.
class WireBody final : public Wire {
public:
    WireBody(Inbound& in, RequestParser& parser) noexcept;
    ~WireBody();
    WireBody(const WireBody&) = delete;
    WireBody& operator=(const WireBody&) = delete;

    bool body_complete() const noexcept override { return parser_.is_done(); }
    std::size_t default_limit() const noexcept override { return in_.options().max_body_bytes; }
    Task<std::string_view> next(std::size_t limit) override;
    Task<> read_all(std::string& out, std::size_t limit) override;
    MemoryBudget memory_budget() const noexcept override { return in_.memory_budget(); }
    void handling_suspends() noexcept override { in_.handling_suspends(); }
    bool upgrade(std::shared_ptr<const WsHandler> handler) noexcept override;

    /// Whether the connection can be reused without reading the rest: false after a read
    /// failed, when 100-continue was expected but never sent (the client may or may not send
    /// the body now), or when what is left is too large or of unknown size to drop cheaply.
    bool can_discard_rest() const noexcept;
    /// Reads and drops the rest of the body; false if that failed.
    Task<bool> discard_rest();

private:
    void start(std::size_t limit);
    // Fills up to `room` bytes at `dst` with body bytes; 0 at the end of the body.
    Task<std::size_t> pump(char* dst, std::size_t room);
    // Reads more of the request into the connection's buffer, under the minimum rate.
    Task<> read_more();
    void drop_trailers();
    // Gives `out` room for `more` bytes: by half again, but never beyond `most`, and counted
    // against the server's budget for buffered bodies.
    void grow(std::string& out, std::size_t more, std::size_t most);
    [[noreturn]] void fail(int status, const char* code, const char* message);

    Inbound& in_;
    RequestParser& parser_;
    Pace pace_;  // the body's minimum rate, counted only while a read waits on the client
    bool started_ = false;
    bool failed_ = false;
    std::uint64_t received_ = 0;
    std::size_t charged_ = 0;  // bytes of body buffer counted in the server's (and client's) budget
};

/// The wire of a request whose body came with its header (or that has none): nothing is left
/// to read. One per connection, outliving each request — a held pipelined response's request
/// is still asked for its wire by finish hooks after its turn, and its WireBody, are over.
/// memory_budget() counts nothing: such a body was never buffered here (it sits in the
/// header's read buffer), and its JSON tree stays small.
class WholeBody final : public Wire {
public:
    explicit WholeBody(Inbound& in) noexcept : in_(in) {}
    bool body_complete() const noexcept override { return true; }
    std::size_t default_limit() const noexcept override { return in_.options().max_body_bytes; }
    Task<std::string_view> next(std::size_t) override { co_return std::string_view{}; }
    Task<> read_all(std::string&, std::size_t) override { co_return; }
    void handling_suspends() noexcept override { in_.handling_suspends(); }
    bool upgrade(std::shared_ptr<const WsHandler> handler) noexcept override;

private:
    Inbound& in_;
};

}  // namespace spur::detail
