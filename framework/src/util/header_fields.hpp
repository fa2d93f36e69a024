#pragma once
// Lookups and replacements in a response's header by walking its list. A response holds a
// dozen fields or so, and a walk that compares enums (or a name's length before its letters)
// costs a third of a lookup in Beast's case-insensitive tree, which every middleware that asks
// "is Content-Encoding set?" would otherwise pay.

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/message.hpp>

#include <string_view>

namespace spur::detail {

using ResponseHeader = boost::beast::http::response_header<>;

/// The value of the first field `name`, or "".
inline std::string_view field_value(const ResponseHeader& header, boost::beast::http::field name) noexcept {
    for (const auto& field : header)
        if (field.name() == name) return field.value();
    return {};
}

/// The value of the first field called `name` (compared case-insensitively), or "".
inline std::string_view field_value(const ResponseHeader& header, std::string_view name) noexcept {
    for (const auto& field : header) {
        const std::string_view candidate = field.name_string();
        if (candidate.size() == name.size() && boost::beast::iequals(candidate, name)) return field.value();
    }
    return {};
}

/// The enum of header name `name`, the names handlers set most looked up without Beast's hash
/// table (which costs as much as the rest of a Response::set).
inline boost::beast::http::field field_of(std::string_view name) noexcept {
    using boost::beast::iequals;
    using boost::beast::http::field;
    switch (name.size()) {
        case 4:
            if (iequals(name, "Vary")) return field::vary;
            if (iequals(name, "ETag")) return field::etag;
            break;
        case 8:
            if (iequals(name, "Location")) return field::location;
            break;
        case 10:
            if (iequals(name, "Set-Cookie")) return field::set_cookie;
            break;
        case 12:
            if (iequals(name, "Content-Type")) return field::content_type;
            break;
        case 13:
            if (iequals(name, "Cache-Control")) return field::cache_control;
            break;
        default:
            break;
    }
    return boost::beast::http::string_to_field(name);
}

/// Sets `name` (whose enum is `known`, or field::unknown) to `value`, as basic_fields::set does
/// (earlier values removed, the new one last), for a name and value already validated.
inline void replace_field(ResponseHeader& header, boost::beast::http::field known, std::string_view name,
                          std::string_view value) {
    for (auto it = header.begin(); it != header.end();) {
        const bool same = known != boost::beast::http::field::unknown
                              ? it->name() == known
                              : it->name_string().size() == name.size() && boost::beast::iequals(it->name_string(), name);
        it = same ? header.erase(it) : std::next(it);
    }
    header.insert(known, name, value);
}

}  // namespace spur::detail
