#pragma once
// Content-Type comparisons shared by the body parsers and typed request bodies.

#include <cctype>
#include <string_view>

namespace spur::detail {

/// Whether `content_type` (parameters ignored, case-insensitive) is `type`, given in lower case.
inline bool media_type_is(std::string_view content_type, std::string_view type) {
    auto semi = content_type.find(';');
    auto t = content_type.substr(0, semi);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);  // OWS: SP or HTAB
    if (t.size() != type.size()) return false;
    for (std::size_t i = 0; i < t.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(t[i])) != type[i]) return false;
    return true;
}

/// application/json or application/*+json, parameters ignored.
inline bool is_json_media_type(std::string_view content_type) {
    auto t = content_type.substr(0, content_type.find(';'));
    if (media_type_is(t, "application/json")) return true;
    return t.size() > 17 && media_type_is(t.substr(0, 12), "application/") && media_type_is(t.substr(t.size() - 5), "+json");
}

}  // namespace spur::detail
