#pragma once
// Shape checks for generated text (ids, log lines) without <regex>, whose libstdc++
// implementation trips GCC 12's -Wmaybe-uninitialized under the sanitizer build.

#include <string>
#include <string_view>

namespace spur::test {

/// Every run of digits becomes a single '9': "1.234ms id=7" -> "9.9ms id=9".
inline std::string digits_to_9(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] >= '0' && s[i] <= '9') {
            out.push_back('9');
            while (i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9') ++i;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

/// Whether s is a lowercase RFC 4122 version-4 UUID.
inline bool is_uuid_v4(std::string_view s) {
    if (s.size() != 36) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return s[14] == '4' && (s[19] == '8' || s[19] == '9' || s[19] == 'a' || s[19] == 'b');
}

/// Whether s is a W3C trace id: 32 lowercase hex digits, not all zero.
inline bool is_trace_id(std::string_view s) {
    if (s.size() != 32 || s.find_first_not_of("0123456789abcdef") != std::string_view::npos) return false;
    return s.find_first_not_of('0') != std::string_view::npos;
}

}  // namespace spur::test
