#include "util/ip.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace spur::detail {

namespace {
constexpr std::array<unsigned char, 12> v4_mapped_prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool is_v4_mapped(const std::array<unsigned char, 16>& b) {
    return std::equal(v4_mapped_prefix.begin(), v4_mapped_prefix.end(), b.begin());
}

bool matches(const IpAddress& a, const IpAddress& base, unsigned prefix) {
    const unsigned whole = prefix / 8, rest = prefix % 8;
    if (!std::equal(a.bytes.begin(), a.bytes.begin() + whole, base.bytes.begin())) return false;
    if (rest == 0) return true;
    const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
    return (a.bytes[whole] & mask) == (base.bytes[whole] & mask);
}
}  // namespace

std::optional<IpAddress> parse_ip(std::string_view text) {
    // inet_pton wants a terminated string; the longest textual IPv6 address is 45 bytes.
    char buffer[64];
    if (text.empty() || text.size() >= sizeof buffer) return std::nullopt;
    std::copy(text.begin(), text.end(), buffer);
    buffer[text.size()] = '\0';
    IpAddress a;
    if (text.find(':') == std::string_view::npos) {
        if (inet_pton(AF_INET, buffer, a.bytes.data() + 12) != 1) return std::nullopt;
        std::copy(v4_mapped_prefix.begin(), v4_mapped_prefix.end(), a.bytes.begin());
        a.v4 = true;
        return a;
    }
    if (inet_pton(AF_INET6, buffer, a.bytes.data()) != 1) return std::nullopt;
    a.v4 = is_v4_mapped(a.bytes);
    return a;
}

std::string to_string(const IpAddress& address) {
    char buffer[INET6_ADDRSTRLEN];
    const char* text = address.v4 ? inet_ntop(AF_INET, address.bytes.data() + 12, buffer, sizeof buffer)
                                  : inet_ntop(AF_INET6, address.bytes.data(), buffer, sizeof buffer);
    return text ? std::string(text) : std::string();
}

IpNetworks::IpNetworks(const std::vector<std::string>& cidrs) {
    for (const auto& entry : cidrs) {
        if (entry == "unix") {
            unix_peers_ = true;
            continue;
        }
        std::string_view text = entry;
        const auto slash = text.find('/');
        auto address = parse_ip(text.substr(0, slash));
        if (!address) throw std::invalid_argument("not an IP address or CIDR: '" + entry + "'");
        const unsigned width = address->v4 ? 32 : 128;
        unsigned prefix = width;
        if (slash != std::string_view::npos) {
            auto digits = text.substr(slash + 1);
            auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
            if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || prefix > width)
                throw std::invalid_argument("bad prefix length in '" + entry + "'");
        }
        networks_.push_back({*address, prefix + (128 - width)});
    }
}

bool IpNetworks::contains(const IpAddress& address) const noexcept {
    return std::any_of(networks_.begin(), networks_.end(),
                       [&](const Network& n) { return matches(address, n.base, n.prefix); });
}

std::string client_key(std::string_view ip) {
    auto address = parse_ip(ip);
    if (!address) return std::string(ip);
    if (address->v4) return to_string(*address);
    std::fill(address->bytes.begin() + 8, address->bytes.end(), 0);
    return to_string(*address) + "/64";
}

}  // namespace spur::detail
