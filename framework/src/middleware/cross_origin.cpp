#include <spur/middleware/cross_origin.hpp>

#include <spur/http_error.hpp>
#include <spur/request.hpp>

#include "http/origin.hpp"

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace spur::middleware {

namespace {
std::vector<std::string> normalized(const std::vector<std::string>& origins, std::string_view who, bool star) {
    std::vector<std::string> out;
    for (const auto& o : origins) {
        if (star && o == "*") {
            out.push_back(o);
            continue;
        }
        auto n = detail::normalize_origin(o);
        if (!n) throw std::invalid_argument(std::string(who) + ": \"" + o + "\" is not an origin like https://app.example.com");
        out.push_back(std::move(*n));
    }
    return out;
}

bool safe_method(std::string_view m) { return m == "GET" || m == "HEAD" || m == "OPTIONS"; }
}  // namespace

Middleware cross_origin_protection(CrossOriginOptions options) {
    auto trusted = std::make_shared<const std::vector<std::string>>(
        normalized(options.trusted_origins, "cross_origin_protection", false));
    auto bypass = std::make_shared<const std::vector<std::string>>(std::move(options.bypass_paths));
    return before([trusted, bypass](Request& req, Response&) {
        if (!safe_method(req.method()) &&
            std::find(bypass->begin(), bypass->end(), req.path()) == bypass->end()) {
            const std::string_view site = req.header("Sec-Fetch-Site");
            const std::string_view origin = req.header("Origin");
            bool allowed;
            if (!site.empty()) {
                // "none": typed into the address bar or a bookmark, not made by a page.
                allowed = site == "same-origin" || site == "none";
            } else {
                allowed = origin.empty() || detail::same_origin(origin, req.header("Host"));
            }
            if (!allowed && !origin.empty()) {
                auto n = detail::normalize_origin(origin);
                allowed = n && std::find(trusted->begin(), trusted->end(), *n) != trusted->end();
            }
            if (!allowed) throw HttpError(403, "cross_origin_request", "Cross-origin requests that change data are not allowed");
        }
    });
}

Middleware websocket_origins(std::vector<std::string> origins) {
    auto list = std::make_shared<const std::vector<std::string>>(normalized(origins, "websocket_origins", true));
    return before([list](Request& req, Response&) { detail::set_websocket_origins(req, list); });
}

}  // namespace spur::middleware
