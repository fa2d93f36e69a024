#include <spur/middleware/security_headers.hpp>

#include <spur/detail/response_access.hpp>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <thread>
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
    // shares them, and they go to the wire as one block (detail::PresetFields). One copy per
    // core, each with its own count of the responses holding it, so that I/O threads do not
    // take turns on one cache line; a thread keeps to the copy its id picks.
    const detail::PresetFields fields(std::move(headers));
    const auto copies = std::clamp(std::thread::hardware_concurrency(), 1u, 16u);
    std::vector<std::shared_ptr<const detail::PresetFields>> shared;
    for (unsigned i = 0; i < copies; ++i) shared.push_back(std::make_shared<const detail::PresetFields>(fields));
    return before([shared = std::move(shared)](Request&, Response& res) {
        thread_local const std::size_t pick = std::hash<std::thread::id>{}(std::this_thread::get_id());
        detail::ResponseAccess::preset(res, shared[pick % shared.size()]);
    });
}

}  // namespace spur::middleware
