#pragma once
// spur::TraceContext — W3C Trace Context (traceparent / tracestate) of the request being handled:
// which trace it belongs to, its own span, and the header a call made from it carries.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace spur {

/// One request's place in a distributed trace (https://www.w3.org/TR/trace-context/).
/// Ids are kept as lowercase hex, so logging them allocates nothing. A default-constructed
/// context is empty (no ids): make one with start() or adopt(). A request's is `req.trace()`.
struct TraceContext {
    std::array<char, 32> trace_id{};   ///< 16 bytes as hex; never all zeros
    std::array<char, 16> span_id{};    ///< this request's span, 8 bytes as hex; never all zeros
    std::array<char, 16> parent_id{};  ///< the caller's span from traceparent; all '0' when the trace began here
    std::uint8_t flags = 0;            ///< trace-flags kept from the caller: bit 0 sampled, bit 1 random (Level 2); others sent as 0
    bool adopted = false;              ///< the trace id came from an inbound traceparent
    std::string tracestate{};          ///< the caller's tracestate, passed on unchanged when valid

    std::string_view trace_id_hex() const noexcept { return {trace_id.data(), trace_id.size()}; }
    std::string_view span_id_hex() const noexcept { return {span_id.data(), span_id.size()}; }

    /// This span's traceparent: "00-<trace_id>-<span_id>-<flags>".
    std::string traceparent() const;
    /// The traceparent for a call made from this span: the same trace id and flags, a new
    /// random span id (the outgoing call's own span), so each call is told apart downstream.
    std::string child_traceparent() const;

    /// A new trace beginning here: random trace and span ids (one draw from spur::random_bytes),
    /// parent_id all '0', flags 0.
    static TraceContext start();
    /// Adopts an inbound `traceparent` (and its `tracestate`) with a new span id of its own, or
    /// nullopt when the header is malformed by the W3C rules (version ff, wrong lengths,
    /// upper-case or non-hex digits, an all-zero id, a version 00 header with trailing data).
    /// A later version is read by the version 00 layout, and what follows its flags after a
    /// '-' is ignored. Spaces and tabs around either value are not part of it.
    /// A tracestate that is malformed (members other than `key=value` with W3C keys and
    /// printable values, more than 32 of them, a key twice) or over 512 bytes is dropped,
    /// never the trace. Several tracestate headers are one list: join them with ',' first.
    static std::optional<TraceContext> adopt(std::string_view traceparent, std::string_view tracestate = {});
};

}  // namespace spur
