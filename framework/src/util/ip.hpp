#pragma once
// Client addresses: parsing (IPv4-mapped IPv6 reads as IPv4), CIDR sets, and the key a
// per-client limit counts under.

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spur::detail {

/// An IPv4 or IPv6 address as 16 bytes (IPv4 as ::ffff:a.b.c.d).
struct IpAddress {
    std::array<unsigned char, 16> bytes{};
    bool v4 = false;
};

/// Parses "192.0.2.1", "2001:db8::1" or "::ffff:192.0.2.1" (which reads as IPv4); nullopt
/// for anything else (ports, brackets, zone ids, names).
std::optional<IpAddress> parse_ip(std::string_view text);

/// The text form of an address; IPv4-mapped IPv6 is written as IPv4.
std::string to_string(const IpAddress& address);

/// A set of networks ("10.0.0.0/8", "2001:db8::/32", or a bare address for one host).
class IpNetworks {
public:
    IpNetworks() = default;
    /// Throws std::invalid_argument naming the first entry that is not an address or CIDR.
    explicit IpNetworks(const std::vector<std::string>& cidrs);
    bool empty() const noexcept { return networks_.empty() && !unix_peers_; }
    bool contains(const IpAddress& address) const noexcept;
    /// Whether the list holds "unix": peers on a unix-domain socket (a proxy on this host).
    bool trusts_unix_peers() const noexcept { return unix_peers_; }

private:
    bool unix_peers_ = false;
    struct Network {
        IpAddress base;
        unsigned prefix;  // over the 16-byte form: an IPv4 /8 is /104
    };
    std::vector<Network> networks_;
};

/// What per-client limits count under: an IPv4 address as is, an IPv6 address by its /64
/// (one subscriber's allocation, which a client can otherwise walk through freely). Text
/// that is not an address is returned unchanged.
std::string client_key(std::string_view ip);

}  // namespace spur::detail
