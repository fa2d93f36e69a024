#include "http/origin.hpp"

#include <spur/http_error.hpp>

#include <algorithm>
#include <cctype>

namespace spur::detail {

namespace {
std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Splits "scheme://authority" with nothing after the authority.
std::optional<std::pair<std::string_view, std::string_view>> split(std::string_view origin) {
    const auto sep = origin.find("://");
    if (sep == std::string_view::npos || sep == 0) return std::nullopt;
    const auto scheme = origin.substr(0, sep);
    const auto authority = origin.substr(sep + 3);
    if (authority.empty() || authority.find_first_of("/?#@ \t") != std::string_view::npos) return std::nullopt;
    if (!std::all_of(scheme.begin(), scheme.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
        }))
        return std::nullopt;
    return std::pair{scheme, authority};
}
}  // namespace

std::optional<std::string> origin_authority(std::string_view origin) {
    auto parts = split(origin);
    if (!parts) return std::nullopt;
    return lower(parts->second);
}

bool same_origin(std::string_view origin, std::string_view host) {
    auto authority = origin_authority(origin);
    return authority && !host.empty() && *authority == lower(host);
}

std::optional<std::string> normalize_origin(std::string_view origin) {
    auto parts = split(origin);
    if (!parts) return std::nullopt;
    return lower(parts->first) + "://" + lower(parts->second);
}

namespace {
constexpr std::string_view locals_key = "spur.websocket_origins";
using Origins = std::shared_ptr<const std::vector<std::string>>;
}  // namespace

void set_websocket_origins(Request& req, Origins origins) { req.locals().set(locals_key, std::move(origins)); }

void check_websocket_origin(const Request& req) {
    const std::string_view origin = req.header("Origin");
    if (origin.empty() || same_origin(origin, req.header("Host"))) return;
    if (const auto* extra = req.locals().get<Origins>(locals_key); extra && *extra) {
        const auto& list = **extra;
        if (std::find(list.begin(), list.end(), "*") != list.end()) return;
        auto n = normalize_origin(origin);
        if (n && std::find(list.begin(), list.end(), *n) != list.end()) return;
    }
    throw HttpError(403, "origin_not_allowed", "This WebSocket does not accept connections from other sites");
}

}  // namespace spur::detail
