#include "client/address_policy.hpp"

#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>

#include <algorithm>

namespace spur::client {

namespace net = boost::asio;

namespace {

// Addresses a server-side request must not be steered to: this host, its links, private
// networks, and what is not unicast on the Internet. IPv4-mapped and NAT64 forms are judged
// by the IPv4 address inside them.
bool is_public(const net::ip::address_v4& a) {
    static const net::ip::network_v4 refused[] = {
        net::ip::make_network_v4("0.0.0.0/8"),      net::ip::make_network_v4("10.0.0.0/8"),
        net::ip::make_network_v4("100.64.0.0/10"),  net::ip::make_network_v4("127.0.0.0/8"),
        net::ip::make_network_v4("169.254.0.0/16"), net::ip::make_network_v4("172.16.0.0/12"),
        net::ip::make_network_v4("192.0.0.0/24"),   net::ip::make_network_v4("192.168.0.0/16"),
        net::ip::make_network_v4("198.18.0.0/15"),  net::ip::make_network_v4("224.0.0.0/4"),
        net::ip::make_network_v4("240.0.0.0/4")};
    return std::none_of(std::begin(refused), std::end(refused), [&](const net::ip::network_v4& n) {
        return net::ip::network_v4(a, n.prefix_length()).canonical() == n;
    });
}

}  // namespace

bool is_public(const net::ip::address& address) {
    if (address.is_v4()) return is_public(address.to_v4());
    const auto a = address.to_v6();
    if (a.is_v4_mapped()) return is_public(net::ip::make_address_v4(net::ip::v4_mapped, a));
    static const auto nat64 = net::ip::make_network_v6("64:ff9b::/96");
    if (net::ip::network_v6(a, 96).canonical() == nat64) {
        const auto b = a.to_bytes();
        return is_public(net::ip::address_v4(net::ip::address_v4::bytes_type{b[12], b[13], b[14], b[15]}));
    }
    static const net::ip::network_v6 refused[] = {
        net::ip::make_network_v6("::/96"),  // unspecified, loopback, and the old IPv4-compatible form
        net::ip::make_network_v6("fc00::/7"), net::ip::make_network_v6("fe80::/10"),
        net::ip::make_network_v6("fec0::/10"), net::ip::make_network_v6("ff00::/8")};
    return std::none_of(std::begin(refused), std::end(refused), [&](const net::ip::network_v6& n) {
        return net::ip::network_v6(a, n.prefix_length()).canonical() == n;
    });
}

bool is_ip_literal(const std::string& host) {
    boost::system::error_code ec;
    net::ip::make_address(host, ec);
    return !ec;
}


}  // namespace spur::client
