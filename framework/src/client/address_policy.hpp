#pragma once
// Which addresses a request may be steered to when the options refuse non-public ones.

#include <boost/asio/ip/address.hpp>

#include <string>

namespace spur::client {

// Whether `address` is unicast on the Internet: not this host, its links, a private network,
// multicast or reserved (IPv4-mapped and NAT64 forms judged by the IPv4 address inside).
bool is_public(const boost::asio::ip::address& address);

bool is_ip_literal(const std::string& host);

}  // namespace spur::client
