#include "server/client_address.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>

#include <optional>
#include <string_view>
#include <vector>

namespace spur::detail {

namespace {
namespace http = boost::beast::http;
using boost::beast::iequals;

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// One hop a proxy reported: the address it saw, and (Forwarded only) the scheme it saw.
struct Hop {
    std::string_view address;
    std::string_view proto;
};

// Splits `list` at commas (not inside quotes) and calls `each` on every trimmed element.
template <class F>
void for_each_element(std::string_view list, F&& each) {
    bool quoted = false;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= list.size(); ++i) {
        if (i < list.size() && list[i] == '"') quoted = !quoted;
        if (i == list.size() || (list[i] == ',' && !quoted)) {
            if (auto element = trim(list.substr(start, i - start)); !element.empty()) each(element);
            start = i + 1;
        }
    }
}

std::string_view unquote(std::string_view v) {
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') return v.substr(1, v.size() - 2);
    return v;
}

// RFC 7239 node: "192.0.2.1", "192.0.2.1:8080", "[2001:db8::1]" or "[2001:db8::1]:8080";
// "unknown" and obfuscated "_names" come back as they are and will not parse as addresses.
std::string_view node_address(std::string_view node) {
    if (!node.empty() && node.front() == '[') {
        auto close = node.find(']');
        return close == std::string_view::npos ? std::string_view{} : node.substr(1, close - 1);
    }
    if (auto colon = node.find(':'); colon != std::string_view::npos && node.find(':', colon + 1) == std::string_view::npos)
        return node.substr(0, colon);
    return node;
}

// One Forwarded element: "for=192.0.2.60;proto=http;by=203.0.113.43".
Hop forwarded_hop(std::string_view element) {
    Hop hop;
    while (!element.empty()) {
        auto semi = element.find(';');
        auto pair = trim(element.substr(0, semi));
        element = semi == std::string_view::npos ? std::string_view{} : element.substr(semi + 1);
        auto eq = pair.find('=');
        if (eq == std::string_view::npos) continue;
        auto key = trim(pair.substr(0, eq));
        auto value = unquote(trim(pair.substr(eq + 1)));
        if (iequals(key, "for")) hop.address = node_address(value);
        else if (iequals(key, "proto")) hop.proto = value;
    }
    return hop;
}

std::optional<bool> scheme_is_https(std::string_view proto) {
    proto = trim(proto);
    if (iequals(proto, "https")) return true;
    if (iequals(proto, "http")) return false;
    return std::nullopt;
}
}  // namespace

void resolve_client(Request& req, const IpNetworks& trusted, ForwardedHeader header, bool tls) {
    if (trusted.empty()) {
        req.set_client({}, tls);
        return;
    }
    auto peer = parse_ip(req.remote_address());
    const bool unix_proxy = !peer && req.remote_address() == "unix" && trusted.trusts_unix_peers();
    if (!unix_proxy && (!peer || !trusted.contains(*peer))) {
        req.set_client({}, tls);
        return;
    }

    // Every hop the proxies reported, client side first, from the one header the operator
    // named. Reading the other too would let a client choose its address: nginx appends to
    // X-Forwarded-For and passes a client's Forwarded through untouched (and vice versa).
    std::vector<Hop> hops;
    const auto& headers = req.headers();
    const bool forwarded = header == ForwardedHeader::forwarded;
    auto [first, last] = headers.equal_range(forwarded ? "Forwarded" : "X-Forwarded-For");
    for (auto field = first; field != last; ++field) {
        for_each_element(field->value(), [&](std::string_view element) {
            hops.push_back(forwarded ? forwarded_hop(element) : Hop{node_address(element), {}});
        });
    }

    // Walk from the proxy next to us towards the client; stop at the first hop we do not
    // trust. A hop that is no address ("unknown") ends the walk at the trusted hop after it.
    std::optional<IpAddress> client = peer;  // none yet for a unix-socket proxy
    std::string_view client_proto;
    for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
        auto address = parse_ip(it->address);
        if (!address) break;
        client = *address;
        client_proto = it->proto;
        if (!trusted.contains(*address)) break;
    }

    bool secure = tls;
    if (forwarded) {
        if (auto https = scheme_is_https(client_proto)) secure = *https;
    } else if (auto proto = req.header("X-Forwarded-Proto"); !proto.empty()) {
        // Express's rule: the left-most value, the scheme the client itself used.
        if (auto https = scheme_is_https(proto.substr(0, proto.find(',')))) secure = *https;
    }
    req.set_client(client ? to_string(*client) : std::string(), secure);
}

std::string peer_address(const net::ip::tcp::socket& socket) {
    boost::system::error_code ec;
    auto endpoint = socket.remote_endpoint(ec);
    if (ec) return {};
    std::string address = endpoint.address().to_string();
    if (address.starts_with("::ffff:"))
        if (auto parsed = parse_ip(address); parsed && parsed->v4) return to_string(*parsed);
    return address;
}

}  // namespace spur::detail
