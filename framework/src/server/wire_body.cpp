#include "server/wire_body.hpp"

#include <spur/http_error.hpp>

#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <limits>
#include <string>

namespace spur::detail {

namespace {
// A buffered body starts at most this large and grows by half again as bytes arrive, never
// past what the request declared or the route allows: memory follows the bytes received, not
// the client's word (a Content-Length of 1 MiB with nothing behind it held 1 MiB for the body
// timeout).
constexpr std::size_t initial_body_capacity = 16 * 1024;
// A pass of read_all() offers at least this much room before the buffer grows.
constexpr std::size_t min_room = 1024;
// An unread body up to this size is read and dropped after the response so the connection
// can be kept; a larger one (or one of unknown size) closes the connection instead.
constexpr std::uint64_t discard_budget = 64 * 1024;
}  // namespace

WireBody::WireBody(Inbound& in, RequestParser& parser) noexcept
    : in_(in), parser_(parser), pace_(in.options().body_timeout, in.options().min_transfer_rate) {}

WireBody::~WireBody() {
    if (charged_ > 0) memory_budget().give(charged_);
}

bool WireBody::upgrade(std::shared_ptr<const WsHandler> handler) noexcept {
    in_.upgrade(std::move(handler));
    return true;
}

bool WholeBody::upgrade(std::shared_ptr<const WsHandler> handler) noexcept {
    in_.upgrade(std::move(handler));
    return true;
}

void WireBody::fail(int status, const char* code, const char* message) {
    failed_ = true;
    throw HttpError(status, code, message);
}

void WireBody::start(std::size_t limit) {
    if (failed_) throw HttpError(400, "bad_request", "Request body could not be read");
    if (started_) return;
    started_ = true;
    if (auto length = parser_.content_length(); length && *length > limit)
        fail(413, "payload_too_large", "Request body too large");
    parser_.body_limit(limit);  // chunked bodies: Beast counts as the chunks arrive
    parser_.eager(true);
}

Task<std::size_t> WireBody::pump(char* dst, std::size_t room) {
    for (;;) {
        if (parser_.is_done()) {
            in_.request_read();  // a close from now on is the client leaving
            co_return 0;
        }
        auto& body = parser_.get().body();
        body.data = dst;
        body.size = room;
        std::size_t used = 0;
        auto& buffer = in_.buffer();
        if (buffer.size() > 0) {
            boost::system::error_code ec;
            try {
                used = parser_.put(buffer.data(), ec);
            } catch (const std::exception&) {  // Beast throws for an oversized trailer field
                fail(400, "bad_request", "Malformed request body");
            }
            buffer.consume(used);
            if (ec == http::error::need_buffer || ec == http::error::need_more) ec = {};
            if (ec == http::error::body_limit) fail(413, "payload_too_large", "Request body too large");
            if (ec) fail(400, "bad_request", "Malformed request body");
            if (parser_.is_done()) drop_trailers();
            const std::size_t got = room - body.size;
            if (got > 0) {
                received_ += got;
                pace_.earned(got);
                co_return got;
            }
            if (used > 0) continue;  // framing (a chunk line) but no data yet
        }
        co_await read_more();
    }
}

// Trailers land in the parser's moved-from header, never in the Request's, and nothing reads
// them: they count against the header's field cap and are freed at once instead of being held
// while the handler runs (a 32 KiB buffer of "a:" lines is ~7,000 fields). Their bytes are
// bounded by the read buffer.
void WireBody::drop_trailers() {
    auto& fields = parser_.get().base();
    if (fields.begin() == fields.end()) return;
    const auto count = static_cast<std::size_t>(std::distance(fields.begin(), fields.end()));
    fields.clear();
    if (count > in_.options().max_header_fields) fail(400, "bad_request", "Too many trailer fields");
}

Task<> WireBody::read_more() {
    auto& buffer = in_.buffer();
    if (buffer.size() == buffer.max_size()) fail(400, "bad_request", "Malformed request body");  // a chunk line too long
    // The connection's socket closes when the allowance passes: a client below the rate.
    if (!co_await in_.read_more(pace_.begin())) fail(400, "bad_request", "Request body could not be read");
    pace_.waited();  // the payload in what arrived earns its credit in pump()
}

Task<std::string_view> WireBody::next(std::size_t limit) {
    start(limit);
    char* chunk = in_.chunk_buffer();
    const std::size_t n = co_await pump(chunk, chunk_size);
    co_return std::string_view(chunk, n);
}

void grow_body(std::string& out, std::size_t more, std::size_t most, std::size_t& charged, const MemoryBudget& budget) {
    const std::size_t needed = out.size() + more;
    if (out.capacity() >= needed) return;
    // By half again, not twice: the buffer stays within 1.5x what arrived (plus a chunk).
    const std::size_t capacity = std::max(
        needed, std::min(std::max(out.capacity() + out.capacity() / 2, initial_body_capacity), std::max(most, needed)));
    // The first initial_body_capacity bytes of every body are not charged: they are part of a
    // connection's own bound (ServerOptions caps connections), and small bodies — a login —
    // then never meet the budget, however large bodies fill it.
    const std::size_t charge = capacity > initial_body_capacity ? capacity - initial_body_capacity : 0;
    if (charge > charged) {
        // The budget, and this client's share of it: one address cannot take it from the others.
        if (!budget.take(charge - charged))
            throw HttpError(503, "overloaded", "The server is busy, try again shortly").with_header("Retry-After", "1");
        charged = charge;
    }
    // Exactly `capacity`: std::string::reserve may round up to twice the old size.
    std::string bigger;
    bigger.reserve(capacity);
    bigger.append(out);
    out.swap(bigger);
}

void WireBody::grow(std::string& out, std::size_t more, std::size_t most) {
    try {
        grow_body(out, more, most, charged_, memory_budget());
    } catch (const HttpError&) {
        failed_ = true;  // the rest stays on the wire: the connection closes after the answer
        throw;
    }
}

Task<> WireBody::read_all(std::string& out, std::size_t limit) {
    start(limit);
    const auto length = parser_.content_length();
    // What the body can still grow to: the declared length, else the limit (+1, so that a
    // chunked body one byte over it still reaches Beast's body_limit check).
    const std::uint64_t most = length                                          ? *length
                               : limit == std::numeric_limits<std::size_t>::max() ? limit
                                                                                 : std::uint64_t{limit} + 1;
    for (;;) {
        if (parser_.is_done()) {
            co_await pump(nullptr, 0);  // the end of the body, as pump() sees it
            co_return;
        }
        // The buffer grows only once it is (nearly) full, and a pass offers at most chunk_size of it:
        // resize() zero-fills the room it adds, so a pass must not add more than one read can
        // fill, or reading would be quadratic in the size.
        const std::uint64_t left = most > received_ ? most - received_ : 1;
        std::size_t room = static_cast<std::size_t>(std::min<std::uint64_t>(left, chunk_size));
        // Nothing of the body here yet: wait for some before making a buffer, so that a client
        // that declared a length and sends nothing holds nothing.
        if (out.capacity() < initial_body_capacity && in_.buffer().size() == 0) co_await read_more();
        if (out.capacity() - out.size() < std::min(room, min_room))
            grow(out, room, static_cast<std::size_t>(std::min<std::uint64_t>(most, std::numeric_limits<std::size_t>::max())));
        room = std::min(room, out.capacity() - out.size());
        const std::size_t old = out.size();
        out.resize(old + room);
        const std::size_t n = co_await pump(out.data() + old, room);
        out.resize(old + n);
        if (n == 0) co_return;
    }
}

bool WireBody::can_discard_rest() const noexcept {
    if (failed_ || in_.continue_owed()) return false;
    auto length = parser_.content_length();
    return length && *length - received_ <= discard_budget;
}

Task<bool> WireBody::discard_rest() {
    try {
        start(std::numeric_limits<std::size_t>::max());  // can_discard_rest() bounded it
        char* scratch = in_.chunk_buffer();
        while (co_await pump(scratch, chunk_size) > 0) {
        }
    } catch (const HttpError&) {
        co_return false;
    }
    co_return true;
}

}  // namespace spur::detail
