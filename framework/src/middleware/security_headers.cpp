#include <spur/middleware/security_headers.hpp>

#include "util/header_fields.hpp"

#include <memory>
#include <utility>
#include <vector>

namespace spur::middleware {

Middleware security_headers(SecurityHeadersOptions o) {
    // Built once; each request only copies them onto its response.
    auto headers = std::make_shared<std::vector<std::pair<std::string, std::string>>>();
    auto add = [&](const char* name, const std::string& value) {
        if (!value.empty()) headers->emplace_back(name, value);
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
    // Validated once, here: each request sets them on the header straight away, without
    // Response::set's checks of the name and value (a sixth of what the six cost).
    Response probe;
    for (const auto& [name, value] : *headers) probe.set(name, value);

    // Each name's enum, looked up once: a request's step only compares enums.
    struct Known {
        boost::beast::http::field field;
        std::string_view name, value;  // into *headers, which nothing changes any more
    };
    std::vector<Known> known;
    for (const auto& [name, value] : *headers) known.push_back({boost::beast::http::string_to_field(name), name, value});
    return before([headers, known = std::move(known)](Request&, Response& res) {
        for (const auto& h : known) detail::replace_field(res.header(), h.field, h.name, h.value);
    });
}

}  // namespace spur::middleware
