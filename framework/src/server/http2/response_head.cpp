#include "server/http2/response_head.hpp"

#include <spur/detail/response_access.hpp>

#include <cctype>
#include <charconv>

namespace spur::detail {

namespace {

bool connection_specific(http::field name) noexcept {
    switch (name) {
        case http::field::connection:
        case http::field::keep_alive:
        case http::field::proxy_connection:
        case http::field::transfer_encoding:
        case http::field::upgrade: return true;
        default: return false;
    }
}

nghttp2_nv entry(const char* name, std::size_t name_size, const char* value, std::size_t value_size) noexcept {
    return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name)), reinterpret_cast<std::uint8_t*>(const_cast<char*>(value)),
            name_size, value_size, NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

const std::vector<nghttp2_nv>& ResponseHead::build(const Response& res, const BodyFraming& framing) {
    // The header and the preset fields not in it yet (none of which is connection-specific).
    const auto& h = ResponseAccess::raw(res);
    const auto* preset = ResponseAccess::preset_of(res);
    // One buffer for the status and the lowercased names, sized first: the entries point into it.
    std::size_t size = 3;
    for (const auto& field : h) size += field.name_string().size();
    if (preset)
        for (const auto& e : preset->entries()) size += e.name.size();
    text_.resize(size);
    char* at = text_.data();
    std::to_chars(at, at + 3, std::min(999, std::max(100, res.status())));
    list_.clear();
    list_.push_back(entry(":status", 7, at, 3));
    at += 3;
    const auto add = [&](std::string_view name, std::string_view value) {
        for (std::size_t i = 0; i < name.size(); ++i) at[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[i])));
        list_.push_back(entry(at, name.size(), value.data(), value.size()));
        at += name.size();
    };
    for (const auto& field : h)
        if (!connection_specific(field.name())) add(field.name_string(), field.value());
    if (preset)
        for (const auto& e : preset->entries()) add(e.name, e.value);
    const auto& wire = framing.wire;
    if (wire.date_set) list_.push_back(entry("date", 4, wire.date.data(), wire.date.size()));
    if (wire.server) list_.push_back(entry("server", 6, "spur", 4));
    if (wire.length_size > 0) list_.push_back(entry("content-length", 14, wire.length.data(), wire.length_size));
    return list_;
}

}  // namespace spur::detail
