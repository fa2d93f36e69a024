#include "url.hpp"

namespace spur::detail {

namespace {
int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Shared by the strict and lenient forms: returns false at the first malformed escape
// when strict, otherwise copies it through.
bool decode_into(std::string& out, std::string_view in, bool plus_is_space, bool strict) {
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '%') {
            int hi = i + 1 < in.size() ? hex_value(in[i + 1]) : -1;
            int lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                if (strict) return false;
                out.push_back(c);
                continue;
            }
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return true;
}
}  // namespace

std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space) {
    std::string out;
    if (!decode_into(out, in, plus_is_space, true)) return std::nullopt;
    return out;
}

std::string percent_decode_lenient(std::string_view in, bool plus_is_space) {
    std::string out;
    decode_into(out, in, plus_is_space, false);
    return out;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
    std::vector<std::pair<std::string, std::string>> out;
    while (!query.empty()) {
        auto amp = query.find('&');
        auto part = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (part.empty()) continue;
        auto eq = part.find('=');
        auto key = part.substr(0, eq);
        auto value = eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1);
        out.emplace_back(percent_decode_lenient(key, true), percent_decode_lenient(value, true));
    }
    return out;
}

std::string percent_encode(std::string_view in) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(in.size());
    for (unsigned char c : in) {
        bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                          c == '.' || c == '_' || c == '~';
        if (unreserved) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

}  // namespace spur::detail

namespace spur::detail {

namespace {
bool starts_with_nocase(std::string_view s, std::string_view lower_prefix) noexcept {
    if (s.size() < lower_prefix.size()) return false;
    for (std::size_t i = 0; i < lower_prefix.size(); ++i) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != lower_prefix[i]) return false;
    }
    return true;
}

// The target without scheme/authority (absolute-form, RFC 9112 §3.2.2) and without a fragment.
std::string_view origin_part(std::string_view t) noexcept {
    if (starts_with_nocase(t, "http://") || starts_with_nocase(t, "https://")) {
        auto authority = t.find("://") + 3;
        auto slash = t.find_first_of("/?", authority);
        t = slash == std::string_view::npos ? std::string_view{} : t.substr(slash);
    }
    auto hash = t.find('#');
    return hash == std::string_view::npos ? t : t.substr(0, hash);
}
}  // namespace

std::string_view target_path(std::string_view target) noexcept {
    auto t = origin_part(target);
    auto path = t.substr(0, t.find('?'));
    return path.empty() ? std::string_view("/") : path;
}

std::string_view target_query(std::string_view target) noexcept {
    auto t = origin_part(target);
    auto q = t.find('?');
    return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

}  // namespace spur::detail
