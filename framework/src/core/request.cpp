#include <spur/request.hpp>

#include <spur/app.hpp>
#include <spur/random.hpp>

#include <spur/http/cookie.hpp>
#include <spur/http_error.hpp>

#include <spur/detail/parse_json.hpp>
#include <spur/detail/wire.hpp>
#include <spur/offload.hpp>

#include "core/request_access.hpp"
#include "core/route.hpp"
#include "util/net.hpp"
#include "util/url.hpp"

#include <algorithm>
#include <iterator>
#include <stdexcept>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>

#include <memory>
#include <new>

namespace spur {

std::string_view Request::id() const {
    if (id_.empty()) id_ = random_uuid();
    return id_;
}

RequestLog Request::log() const { return RequestLog(app().log(), id(), trace().trace_id_hex()); }

namespace {
// The inbound context by the W3C rules: a traceparent sent twice is no traceparent (the trace
// restarts); tracestate headers are one list, in order, empty ones skipped.
TraceContext inbound_trace(const Request::Message& m) {
    const auto [parent, parent_end] = m.equal_range("traceparent");
    if (parent == parent_end || std::next(parent) != parent_end) return TraceContext::start();
    auto [state, state_end] = m.equal_range("tracestate");
    std::string joined;
    std::string_view tracestate;
    if (state != state_end && std::next(state) == state_end) {
        tracestate = state->value();  // the usual case: one header, no copy
    } else {
        for (; state != state_end; ++state) {
            if (state->value().find_first_not_of(" \t") == std::string_view::npos) continue;
            if (!joined.empty()) joined += ',';
            joined += state->value();
        }
        tracestate = joined;
    }
    if (auto adopted = TraceContext::adopt(parent->value(), tracestate)) return std::move(*adopted);
    return TraceContext::start();
}
}  // namespace

const TraceContext& Request::trace() const {
    if (!trace_) trace_ = inbound_trace(message_);
    return *trace_;
}


Request::Request() { split_target(); }

Request::Request(Message message, std::string_view remote_address, detail::Wire* wire)
    : message_(std::move(message)), remote_address_(remote_address), wire_(wire), body_done_(!wire || wire->body_complete()) {
    split_target();
}

Request::Request(Message::header_type&& header, std::string_view remote_address, detail::Wire* wire)
    : message_(std::move(header)), remote_address_(remote_address), wire_(wire), body_done_(!wire || wire->body_complete()) {
    split_target();
}

bool Request::body_is_streamed() const noexcept { return route_ && route_->stream_body; }

bool Request::cancels_on_disconnect() const noexcept { return !route_ || route_->cancel_on_disconnect; }

void Request::split_target() noexcept {
    path_ = detail::target_path(message_.target());
    query_string_ = detail::target_query(message_.target());
}

App& Request::app() const {
    if (!app_) throw std::logic_error("spur: Request::app() on a request no App is handling");
    return *app_;
}

std::string_view Request::method() const noexcept { return message_.method_string(); }

std::string_view Request::param(std::string_view name) const noexcept {
    for (const auto& [key, value] : params_)
        if (key == name) return value;
    return {};
}

void Request::parse_query() const {
    if (!query_) query_ = detail::parse_query(query_string_);
}

std::optional<std::string_view> Request::query(std::string_view key) const {
    parse_query();
    for (const auto& [k, v] : *query_)
        if (k == key) return std::string_view(v);
    return std::nullopt;
}

std::vector<std::string_view> Request::query_all(std::string_view key) const {
    parse_query();
    std::vector<std::string_view> out;
    for (const auto& [k, v] : *query_)
        if (k == key) out.emplace_back(v);
    return out;
}

std::string_view Request::header(std::string_view name) const { return message_[name]; }

bool Request::has_header(std::string_view name) const { return message_.find(name) != message_.end(); }

void Request::parse_cookies() const {
    if (cookies_) return;
    cookies_.emplace();
    for (auto it = message_.find(http::field::cookie); it != message_.end() && it->name() == http::field::cookie; ++it) {
        auto pairs = parse_cookie_header(it->value());
        cookies_->insert(cookies_->end(), std::make_move_iterator(pairs.begin()), std::make_move_iterator(pairs.end()));
    }
}

std::optional<std::string_view> Request::cookie(std::string_view name) const {
    parse_cookies();
    for (const auto& [k, v] : *cookies_)
        if (k == name) return std::string_view(v);
    return std::nullopt;
}

namespace {
// What a parsed tree may hold per byte of body, arena blocks included. Boost.JSON spends 16
// bytes per value: an array of small numbers is 8x its text as a tree, and the arena's blocks
// double (up to 2x the tree); ordinary objects and strings stay far below. Past it: 413. The
// server's budget for buffered bodies counts the tree too, and is what bounds it in practice.
constexpr std::size_t parse_bytes_per_body_byte = 24;
constexpr std::size_t parse_bytes_floor = 64 * 1024;

// Counts what the tree allocates: refused past the cap (413), and counted with the body in
// the server's budget for buffered bodies (503 past it), so that a small body parsed into a
// large tree cannot hold more memory than the budget says.
class CappedResource final : public json::memory_resource {
public:
    CappedResource(std::size_t cap, detail::MemoryBudget budget) noexcept : cap_(cap), budget_(budget) {}
    // The arena hands its blocks back only when it goes, and not always with the sizes it
    // asked for: the whole count is given back at once.
    ~CappedResource() override { budget_.give(used_); }
    CappedResource(const CappedResource&) = delete;
    CappedResource& operator=(const CappedResource&) = delete;

private:
    void* do_allocate(std::size_t bytes, std::size_t alignment) override {
        if (bytes > cap_ - used_) throw HttpError(413, "payload_too_large", "Request body too large once parsed");
        if (!budget_.take(bytes))
            throw HttpError(503, "overloaded", "The server is busy, try again shortly").with_header("Retry-After", "1");
        used_ += bytes;
        return ::operator new(bytes, std::align_val_t(alignment));
    }
    void do_deallocate(void* p, std::size_t, std::size_t alignment) override {
        ::operator delete(p, std::align_val_t(alignment));
    }
    bool do_is_equal(const json::memory_resource& other) const noexcept override { return this == &other; }

    std::size_t cap_;
    detail::MemoryBudget budget_;
    std::size_t used_ = 0;
};

// The parsed tree's memory: one arena per body, under the cap, released in a few blocks when
// the request ends. Freed value by value to the heap, a tree of millions of values took an
// I/O thread over 100 ms (the request, and so its tree, ends on the I/O thread). (Not marked
// is_deallocate_trivial: the tree's values each hold a reference to the arena, which skipping
// their destructors would leak.)
class BodyArena final : public json::memory_resource {
public:
    BodyArena(std::size_t cap, detail::MemoryBudget budget) : capped_(cap, budget), arena_(4096, json::storage_ptr(&capped_)) {}

private:
    void* do_allocate(std::size_t bytes, std::size_t alignment) override { return arena_.allocate(bytes, alignment); }
    void do_deallocate(void*, std::size_t, std::size_t) override {}
    bool do_is_equal(const json::memory_resource& other) const noexcept override { return this == &other; }

    CappedResource capped_;
    json::monotonic_resource arena_;
};
json::value parse_body(std::string_view body, detail::MemoryBudget budget) {
    auto arena = json::make_shared_resource<BodyArena>(parse_bytes_floor + parse_bytes_per_body_byte * body.size(), budget);
    boost::system::error_code ec;
    json::value v = json::parse(body, ec, arena);
    if (ec) throw HttpError(400, "invalid_json", "Request body is not valid JSON");
    return v;
}
}  // namespace

const json::value& Request::json() const {
    if (!json_) json_ = parse_body(message_.body(), wire_ ? wire_->memory_budget() : detail::MemoryBudget{});
    return *json_;
}

std::size_t Request::body_limit(std::size_t max_bytes) const noexcept {
    std::size_t limit = max_bytes;
    if (route_ && route_->body_limit) limit = std::min(limit, *route_->body_limit);
    else if (wire_) limit = std::min(limit, wire_->default_limit());
    return limit;
}

Task<> Request::read_body(std::size_t max_bytes) {
    const std::size_t limit = body_limit(max_bytes);
    if (body_pending()) {
        co_await wire_->read_all(message_.body(), limit);
        body_done_ = true;
    }
    // A body built in memory (the test client) obeys the same limits as one from the wire.
    if (message_.body().size() > limit) throw HttpError(413, "payload_too_large", "Request body too large");
}

Task<std::string_view> Request::read_body_chunk() {
    if (body_pending()) {
        auto chunk = co_await wire_->next(body_limit(std::numeric_limits<std::size_t>::max()));
        if (chunk.empty()) body_done_ = true;
        co_return chunk;
    }
    if (whole_body_given_) co_return std::string_view{};
    whole_body_given_ = true;
    if (message_.body().size() > body_limit(std::numeric_limits<std::size_t>::max()))
        throw HttpError(413, "payload_too_large", "Request body too large");
    co_return std::string_view(message_.body());
}

namespace detail {

Wire* wire_of(const Request& req) noexcept { return RequestAccess::wire(req); }

Task<> parse_json(Request& req) {
    auto& cached = RequestAccess::json(req);
    if (cached) co_return;
    const std::string& body = req.body();
    const auto* source = RequestAccess::wire(req);
    const auto budget = source ? source->memory_budget() : MemoryBudget{};
    if (body.size() < json_offload_bytes) {
        cached = parse_body(body, budget);
        co_return;
    }
    // Handed back in a unique_ptr: a moved-from json::value keeps a reference to its arena,
    // and the moved-from results inside the offload's completion outlive this coroutine — an
    // arena released there would count its bytes back into a budget whose client may be gone.
    auto parse = [&body, &budget] { return std::make_unique<json::value>(parse_body(body, budget)); };
    auto value = co_await offload(parse);
    cached = std::move(*value);
}

}  // namespace detail

namespace detail {
MemoryBudget memory_budget_of(const Request& req) noexcept {
    const Wire* wire = RequestAccess::wire(req);
    return wire ? wire->memory_budget() : MemoryBudget{};
}
}  // namespace detail

}  // namespace spur
