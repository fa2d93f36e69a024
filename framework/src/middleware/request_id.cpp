#include <spur/middleware/request_id.hpp>

#include <spur/detail/response_access.hpp>
#include <spur/random.hpp>
#include <spur/response.hpp>

namespace spur::middleware {

namespace {

// Short and from a small alphabet: the id lands in log lines, error bodies and the response
// header, where a client's quotes, spaces, control bytes or kilobytes would forge or bloat them.
bool sane(std::string_view id, std::size_t max_length) {
    if (id.empty() || id.size() > max_length) return false;
    for (char c : id) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                  c == '.' || c == ':';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

Middleware request_id(RequestIdOptions options) {
    Response probe;
    probe.set(options.header, "id");  // the name is checked once, here; every id is sane()'s alphabet
    const auto field = boost::beast::http::string_to_field(options.header);  // looked up once
    return before([options = std::move(options), field](Request& req, Response& res) {
        std::string_view incoming = req.header(options.header);
        std::string id = options.trust_incoming && sane(incoming, options.max_length) ? std::string(incoming) : random_uuid();
        detail::ResponseAccess::replace(res, field, options.header, id);
        req.id(std::move(id));
    });
}

std::string_view request_id_of(const Request& req) { return req.has_id() ? req.id() : std::string_view{}; }

}  // namespace spur::middleware
