// CookieSessionStore: the whole session, as base64url JSON, in the (signed) cookie.
#include <spur/session.hpp>

#include "security/base64.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <stdexcept>

namespace spur {

namespace {
using std::chrono::system_clock;
namespace json = boost::json;

// Milliseconds: a short max_age must not be cut to the second.
std::int64_t cookie_ms(system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
system_clock::time_point from_cookie_ms(std::int64_t ms) {
    return system_clock::time_point(std::chrono::duration_cast<system_clock::duration>(std::chrono::milliseconds(ms)));
}

// Browsers keep 4096 bytes per cookie, name and attributes included; the signature adds 44.
constexpr std::size_t max_token = 4000;
}  // namespace

Task<std::optional<SessionRecord>> CookieSessionStore::load(std::string_view token) {
    // The signature has been checked, so this is a token we wrote; an older format or a
    // truncated cookie still only starts a new session.
    auto bytes = detail::base64url_decode(token);
    if (!bytes) co_return std::nullopt;
    std::error_code ec;
    auto v = json::parse(*bytes, ec);
    if (ec || !v.is_object()) co_return std::nullopt;
    const auto& o = v.get_object();
    const auto *id = o.if_contains("i"), *created = o.if_contains("c"), *expires = o.if_contains("e"),
               *data = o.if_contains("d");
    if (!id || !id->is_string() || !created || !created->is_int64() || !expires || !expires->is_int64() || !data ||
        !data->is_object())
        co_return std::nullopt;
    co_return SessionRecord{std::string(id->get_string()), data->get_object(), from_cookie_ms(created->get_int64()),
                            from_cookie_ms(expires->get_int64())};
}

Task<std::string> CookieSessionStore::save(const SessionRecord& record, bool) {
    json::object o;
    o["i"] = record.id;
    o["c"] = cookie_ms(record.created);
    o["e"] = cookie_ms(record.expires);
    o["d"] = record.data;
    auto token = detail::base64url_encode(json::serialize(o));
    if (token.size() > max_token)
        throw std::length_error("session cookie too large: " + std::to_string(token.size()) +
                                " bytes (browsers keep 4096); keep large data in a server-side store");
    co_return token;
}

Task<> CookieSessionStore::erase(std::string_view) { co_return; }

}  // namespace spur
