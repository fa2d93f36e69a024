#include <spur/middleware/cors.hpp>

#include <algorithm>
#include <stdexcept>
#include <memory>

namespace spur::middleware {

namespace {

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) out += ", ";
        out += item;
    }
    return out;
}

// Reflected preflight headers must be a plain list of header names.
bool is_header_list(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
               c == ',' || c == ' ';
    });
}

struct Policy {
    CorsOptions options;
    bool any_origin = false;
    std::string methods;
    std::string allowed_headers;
    std::string exposed_headers;
    std::string max_age;

    bool allows(std::string_view origin) const {
        if (options.allow_origin) return options.allow_origin(origin);
        if (any_origin) return true;
        return std::find(options.origins.begin(), options.origins.end(), origin) != options.origins.end();
    }

    void allow(Response& res, std::string_view origin) const {
        if (any_origin && !options.credentials && !options.allow_origin) {
            res.set("Access-Control-Allow-Origin", "*");
        } else {
            res.set("Access-Control-Allow-Origin", origin);
        }
        if (options.credentials) res.set("Access-Control-Allow-Credentials", "true");
    }

    bool varies() const { return !(any_origin && !options.credentials && !options.allow_origin); }
};

}  // namespace

Middleware cors(CorsOptions options) {
    auto p = std::make_shared<Policy>();
    p->any_origin = std::find(options.origins.begin(), options.origins.end(), "*") != options.origins.end();
    if (p->any_origin && options.credentials)
        throw std::invalid_argument(
            "cors: origins \"*\" with credentials would let every site read logged-in users' responses; "
            "list the origins or decide with allow_origin");
    p->methods = join(options.methods);
    p->allowed_headers = join(options.allowed_headers);
    p->exposed_headers = join(options.exposed_headers);
    if (options.max_age) p->max_age = std::to_string(options.max_age->count());
    p->options = std::move(options);

    // A preflight is answered here (the chain stops); any other request goes on.
    return before([p](Request& req, Response& res) {
        const std::string_view origin = req.header("Origin");
        if (origin.empty()) return;
        const bool preflight = req.method() == "OPTIONS" && req.has_header("Access-Control-Request-Method");
        if (p->varies()) res.vary("Origin");
        const bool allowed = p->allows(origin) && is_valid_header_value(origin);
        if (!preflight) {
            if (allowed) {
                p->allow(res, origin);
                if (!p->exposed_headers.empty()) res.set("Access-Control-Expose-Headers", p->exposed_headers);
            }
            return;
        }
        if (allowed) {
            p->allow(res, origin);
            res.set("Access-Control-Allow-Methods", p->methods);
            if (!p->allowed_headers.empty()) {
                res.set("Access-Control-Allow-Headers", p->allowed_headers);
            } else {
                res.vary("Access-Control-Request-Headers");
                auto requested = req.header("Access-Control-Request-Headers");
                if (!requested.empty() && is_header_list(requested)) res.set("Access-Control-Allow-Headers", requested);
            }
            if (!p->max_age.empty()) res.set("Access-Control-Max-Age", p->max_age);
        }
        res.status(204).end();
    });
}

}  // namespace spur::middleware
