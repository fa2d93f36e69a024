#include <spur/middleware/etag.hpp>

#include <spur/http/conditional.hpp>

#include "security/base64.hpp"

#include <openssl/evp.h>

#include <fmt/core.h>

namespace spur::middleware {

namespace {
std::string body_etag(const std::string& body) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned length = 0;
    EVP_Digest(body.data(), body.size(), digest, &length, EVP_sha1(), nullptr);
    const auto hash = detail::base64url_encode({reinterpret_cast<const char*>(digest), length});
    return fmt::format("W/\"{:x}-{}\"", body.size(), hash);
}
}  // namespace

Middleware etag() {
    return [](Request& req, Response& res, Next next) -> Task<> {
        co_await next();
        if (res.status() != 200 || res.producer() || (req.method() != "GET" && req.method() != "HEAD")) co_return;
        std::string tag(res.get("ETag"));
        if (tag.empty()) tag = body_etag(res.body());
        fresh(req, res, tag);
    };
}

}  // namespace spur::middleware
