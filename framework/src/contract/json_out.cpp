#include <spur/detail/json_out.hpp>

#include <boost/json/serializer.hpp>

#include <charconv>
#include <cstdint>
#include <cstring>

namespace spur::detail {

namespace {

// Boost.JSON 1.81's escapes (boost/json/impl/serializer.ipp): the six short forms, \u00xx
// with lower-case hex for the other control characters, nothing else.
constexpr char short_escape(unsigned char c) noexcept {
    switch (c) {
        case '"': return '"';
        case '\\': return '\\';
        case '\b': return 'b';
        case '\t': return 't';
        case '\n': return 'n';
        case '\f': return 'f';
        case '\r': return 'r';
        default: return 0;
    }
}

constexpr bool needs_escape(unsigned char c) noexcept { return c < 0x20 || c == '"' || c == '\\'; }

// Whether any of the 8 bytes in `w` needs an escape, a word at a time: a byte below 0x20,
// or equal to '"' or '\\' (the exact "has a byte less than n" and "has a zero byte" tests).
constexpr bool any_needs_escape(std::uint64_t w) noexcept {
    constexpr std::uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    const std::uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
    return (((w - ones * 0x20) & ~w) | ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash)) & highs;
}

// The rest of `sr`'s output appended to `out`.
void drain(boost::json::serializer& sr, std::string& out) {
    char buffer[256];
    while (!sr.done()) out.append(sr.read(buffer, sizeof buffer));
}

}  // namespace

void JsonOut::string(std::string_view text) {
    out_.push_back('"');
    const char* p = text.data();
    const char* const end = p + text.size();
    const char* run = p;  // the bytes from here to p are copied as they are
    while (p != end) {
        if (end - p >= 8) {
            std::uint64_t w;
            std::memcpy(&w, p, sizeof w);
            if (!any_needs_escape(w)) {
                p += 8;
                continue;
            }
        }
        const auto c = static_cast<unsigned char>(*p);
        if (!needs_escape(c)) {
            ++p;
            continue;
        }
        out_.append(run, static_cast<std::size_t>(p - run));
        run = ++p;
        if (const char e = short_escape(c)) {
            const char pair[2] = {'\\', e};
            out_.append(pair, 2);
        } else {
            static constexpr char hex[] = "0123456789abcdef";
            const char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
            out_.append(u, 6);
        }
    }
    out_.append(run, static_cast<std::size_t>(p - run));
    out_.push_back('"');
}

void JsonOut::number(std::int64_t n) {
    char digits[24];
    out_.append(digits, std::to_chars(digits, digits + sizeof digits, n).ptr);
}

void JsonOut::number(std::uint64_t n) {
    char digits[24];
    out_.append(digits, std::to_chars(digits, digits + sizeof digits, n).ptr);
}

void JsonOut::number(double d) { value(boost::json::value(d)); }

void JsonOut::value(const boost::json::value& v) {
    switch (v.kind()) {
        case boost::json::kind::null: return raw("null");
        case boost::json::kind::bool_: return raw(v.get_bool() ? "true" : "false");
        case boost::json::kind::int64: return number(v.get_int64());
        case boost::json::kind::uint64: return number(v.get_uint64());
        case boost::json::kind::string: return string(v.get_string());
        default: {
            boost::json::serializer sr;
            sr.reset(&v);
            drain(sr, out_);
        }
    }
}

}  // namespace spur::detail
