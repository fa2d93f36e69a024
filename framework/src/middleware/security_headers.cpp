#include <spur/middleware/security_headers.hpp>

#include <spur/detail/response_access.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace spur::middleware {

Middleware security_headers(SecurityHeadersOptions o) {
    std::vector<std::pair<std::string, std::string>> headers;
    auto add = [&](const char* name, const std::string& value) {
        if (!value.empty()) headers.emplace_back(name, value);
    };
    if (o.no_sniff) add("X-Content-Type-Options", "nosniff");
    add("X-Frame-Options", o.frame_options);
    add("Content-Security-Policy", o.content_security_policy);
    add("Referrer-Policy", o.referrer_policy);
    add("Cross-Origin-Opener-Policy", o.cross_origin_opener_policy);
    add("Cross-Origin-Resource-Policy", o.cross_origin_resource_policy);
    if (o.hsts_max_age) {
        std::string v = "max-age=" + std::to_string(o.hsts_max_age->count());
        if (o.hsts_include_subdomains) v += "; includeSubDomains";
        if (o.hsts_preload) v += "; preload";
        add("Strict-Transport-Security", v);
    }
    // Validated and serialised once, here (a value with CR or LF throws now): each response
    // only points at them, and they go to the wire as one block (detail::PresetFields). The
    // middleware, and so the block, outlives every response it sees.
    auto preset = std::make_shared<const detail::PresetFields>(std::move(headers));
    return before([preset](Request&, Response& res) { detail::ResponseAccess::preset(res, *preset); });
}

}  // namespace spur::middleware
