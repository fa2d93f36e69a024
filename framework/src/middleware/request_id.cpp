#include <spur/middleware/request_id.hpp>

#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace spur::middleware {

namespace {

constexpr std::string_view locals_key = "request_id";

bool sane(std::string_view id, std::size_t max_length) {
    if (id.empty() || id.size() > max_length) return false;
    for (char c : id) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                  c == '.' || c == ':';
        if (!ok) return false;
    }
    return true;
}

std::string uuid_v4() {
    std::array<unsigned char, 16> b{};
    if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) throw std::runtime_error("RAND_bytes failed");
    b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
    b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (std::size_t i = 0; i < b.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
        out.push_back(hex[b[i] >> 4]);
        out.push_back(hex[b[i] & 15]);
    }
    return out;
}

}  // namespace

Middleware request_id(RequestIdOptions options) {
    return [options = std::move(options)](Request& req, Response& res, Next next) -> Task<> {
        std::string_view incoming = req.header(options.header);
        std::string id = options.trust_incoming && sane(incoming, options.max_length) ? std::string(incoming) : uuid_v4();
        res.set(options.header, id);
        req.locals().set(locals_key, std::move(id));
        co_await next();
    };
}

std::string_view request_id_of(const Request& req) {
    const auto* id = req.locals().get<std::string>(locals_key);
    return id ? std::string_view(*id) : std::string_view{};
}

}  // namespace spur::middleware
