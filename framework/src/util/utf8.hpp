#pragma once
// Text that may hold a client's bytes, made valid UTF-8 for log lines: a JSON line with an
// invalid sequence is refused whole by strict readers (jq, most log shippers).

#include <boost/locale/utf.hpp>

#include <string>
#include <string_view>

namespace spur::detail {

/// `s` with every byte that does not start a valid UTF-8 sequence (a stray continuation byte,
/// a truncated sequence, an overlong form, a surrogate, a code point above U+10FFFF) replaced
/// by U+FFFD. Valid text comes back unchanged.
inline std::string valid_utf8(std::string_view s) {
    using utf8 = boost::locale::utf::utf_traits<char>;
    std::string out;
    out.reserve(s.size());
    const char* p = s.data();
    const char* const end = p + s.size();
    while (p != end) {
        const char* start = p;
        const auto c = utf8::decode(p, end);  // Boost.Locale's decoder, header-only
        if (c == boost::locale::utf::illegal || c == boost::locale::utf::incomplete) {
            out += "\xEF\xBF\xBD";
            p = start + 1;  // resynchronise on the next byte
        } else {
            out.append(start, p);
        }
    }
    return out;
}

}  // namespace spur::detail
