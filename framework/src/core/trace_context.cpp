#include <spur/trace_context.hpp>

#include <spur/random.hpp>

#include <algorithm>
#include <cstddef>
#include <span>

namespace spur {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";
// The flags spur knows and passes on: sampled (bit 0) and, from Trace Context Level 2, random
// (bit 1). The others are reserved, and the spec says to send them as zero.
constexpr std::uint8_t known_flags = 0x03;
// A version 00 traceparent's length, and the shortest a later version may be.
constexpr std::size_t traceparent_size = 55;
constexpr std::size_t tracestate_max_bytes = 512;
constexpr std::size_t tracestate_max_members = 32;

template <std::size_t N>
void to_hex(std::span<const unsigned char> bytes, std::array<char, N>& out) {
    static_assert(N % 2 == 0);
    for (std::size_t i = 0; i < N / 2; ++i) {
        out[2 * i] = hex_digits[bytes[i] >> 4];
        out[2 * i + 1] = hex_digits[bytes[i] & 15];
    }
}

template <std::size_t N>
bool all_zero(const std::array<char, N>& hex) {
    return std::all_of(hex.begin(), hex.end(), [](char c) { return c == '0'; });
}

// The ids are random bytes from spur::random_bytes: OpenSSL's CSPRNG, as for request ids and
// session tokens, but served from a per-thread block of its output (security/random.cpp), so a
// context costs a 24-byte copy rather than an OpenSSL call (thousands of instructions each).
// A cheaper non-cryptographic generator was not worth its risk: a trace id that can be
// predicted lets a caller attach its spans to someone else's trace.
template <std::size_t N>
void random_hex(std::array<char, N>& out) {
    std::array<unsigned char, N / 2> bytes{};
    do {  // an all-zero id is invalid; at 2^-64 or less this loop runs once
        random_bytes(bytes);
        to_hex(bytes, out);
    } while (all_zero(out));
}

bool lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

int hex_value(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

template <std::size_t N>
bool read_hex(std::string_view s, std::array<char, N>& out) {
    if (s.size() != N || !std::all_of(s.begin(), s.end(), lower_hex)) return false;
    std::copy(s.begin(), s.end(), out.begin());
    return !all_zero(out);
}

std::string_view trim_ows(std::string_view s) {
    const auto first = s.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

bool lcalpha(char c) { return c >= 'a' && c <= 'z'; }
bool digit(char c) { return c >= '0' && c <= '9'; }
bool key_char(char c) { return lcalpha(c) || digit(c) || c == '_' || c == '-' || c == '*' || c == '/'; }

// key = simple-key / multi-tenant-key: lcalpha 0*255(key chars), or
// (lcalpha / DIGIT) 0*240(key chars) "@" lcalpha 0*13(key chars).
bool tracestate_key(std::string_view key) {
    const auto at = key.find('@');
    if (at == std::string_view::npos)
        return !key.empty() && key.size() <= 256 && lcalpha(key[0]) && std::all_of(key.begin(), key.end(), key_char);
    const auto tenant = key.substr(0, at);
    const auto system = key.substr(at + 1);
    return !tenant.empty() && tenant.size() <= 241 && (lcalpha(tenant[0]) || digit(tenant[0])) &&
           std::all_of(tenant.begin(), tenant.end(), key_char) && !system.empty() && system.size() <= 14 && lcalpha(system[0]) &&
           std::all_of(system.begin(), system.end(), key_char);
}

// value = 0*255(chr) nblk-chr: printable ASCII but ',' and '=', spaces inside only.
bool tracestate_value(std::string_view value) {
    return !value.empty() && value.size() <= 256 && value.back() != ' ' &&
           std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c <= 0x7e && c != ',' && c != '='; });
}

// The W3C list: at most 32 `key=value` members, keys unique; empty members are allowed.
bool valid_tracestate(std::string_view state) {
    if (state.size() > tracestate_max_bytes) return false;
    std::array<std::string_view, tracestate_max_members> keys{};
    std::size_t count = 0;
    for (std::size_t begin = 0; begin <= state.size();) {
        auto end = state.find(',', begin);
        if (end == std::string_view::npos) end = state.size();
        const auto member = trim_ows(state.substr(begin, end - begin));
        begin = end + 1;
        if (member.empty()) continue;
        const auto eq = member.find('=');
        if (eq == std::string_view::npos || !tracestate_key(member.substr(0, eq)) || !tracestate_value(member.substr(eq + 1)))
            return false;
        const auto key = member.substr(0, eq);
        if (count == keys.size() || std::find(keys.begin(), keys.begin() + count, key) != keys.begin() + count) return false;
        keys[count++] = key;
    }
    return true;
}

std::string format_traceparent(const TraceContext& c, const std::array<char, 16>& span) {
    std::string out;
    out.reserve(traceparent_size);
    out += "00-";
    out.append(c.trace_id.data(), c.trace_id.size());
    out += '-';
    out.append(span.data(), span.size());
    out += '-';
    out += hex_digits[c.flags >> 4];
    out += hex_digits[c.flags & 15];
    return out;
}

}  // namespace

std::string TraceContext::traceparent() const { return format_traceparent(*this, span_id); }

std::string TraceContext::child_traceparent() const {
    std::array<char, 16> child{};
    random_hex(child);
    return format_traceparent(*this, child);
}

TraceContext TraceContext::start() {
    TraceContext c;
    // One draw for both ids. Each is redrawn on its own in the (2^-64) case of all zeros.
    std::array<unsigned char, 24> bytes{};
    random_bytes(bytes);
    to_hex(std::span(bytes).first<16>(), c.trace_id);
    to_hex(std::span(bytes).last<8>(), c.span_id);
    if (all_zero(c.trace_id)) random_hex(c.trace_id);
    if (all_zero(c.span_id)) random_hex(c.span_id);
    c.parent_id.fill('0');
    return c;
}

std::optional<TraceContext> TraceContext::adopt(std::string_view traceparent, std::string_view tracestate) {
    const std::string_view s = trim_ows(traceparent);
    // version "-" trace-id "-" parent-id "-" trace-flags, then, for a version after 00 only,
    // "-" and fields this version does not know (ignored, as the spec asks).
    if (s.size() < traceparent_size || !lower_hex(s[0]) || !lower_hex(s[1]) || s[2] != '-') return std::nullopt;
    const std::string_view version = s.substr(0, 2);
    if (version == "ff") return std::nullopt;
    if (version == "00" ? s.size() != traceparent_size : s.size() > traceparent_size && s[traceparent_size] != '-')
        return std::nullopt;
    if (s[35] != '-' || s[52] != '-' || !lower_hex(s[53]) || !lower_hex(s[54])) return std::nullopt;
    TraceContext c;
    if (!read_hex(s.substr(3, 32), c.trace_id) || !read_hex(s.substr(36, 16), c.parent_id)) return std::nullopt;
    c.flags = static_cast<std::uint8_t>((hex_value(s[53]) << 4 | hex_value(s[54])) & known_flags);
    c.adopted = true;
    random_hex(c.span_id);
    // A bad tracestate costs the tracestate, never the trace.
    if (const auto state = trim_ows(tracestate); !state.empty() && valid_tracestate(state)) c.tracestate = state;
    return c;
}

}  // namespace spur
