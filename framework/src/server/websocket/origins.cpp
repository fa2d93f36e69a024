#include "server/websocket/origins.hpp"

#include <spur/http_error.hpp>

#include "util/origin.hpp"

#include <algorithm>

namespace spur::detail {

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
