// sockscope/community_id.hpp: the Community ID v1 flow hash (as Zeek,
// Suricata and Malcolm compute it), so records of sockscope join other tools'.
//
//   #include <iostream>
//   auto pair = SocketPair::parse("tcp 1.2.3.4:1122 -> 5.6.7.8:3344");
//   std::cout << community_id(*pair) << '\n';  // => 1:wCb3OG7yAFWelaUydu0D+125CLM=
//
// Definition: "1:" + base64(SHA-1(seed(2) src(4|16) dst(4|16) proto(1) 0(1)
// sport(2) dport(2))), with the endpoints ordered so that both directions give
// the same value; ICMP uses type and code in place of ports.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "sockscope/ip_address.hpp"
#include "sockscope/socket_pair.hpp"

namespace sockscope {

// Low-level form. For ICMP, src_port is the type and dst_port the code.
// Without ports (protocols other than tcp/udp/sctp/icmp), pass has_ports=false.
std::string community_id(const IpAddress& src, const IpAddress& dst, std::uint8_t protocol,
                         std::uint16_t src_port, std::uint16_t dst_port, bool has_ports,
                         std::uint16_t seed = 0);

// ICMP request/reply types that form one flow (echo 8/0, 128/129, Neighbor
// Discovery 135/136, ...): true with the counterpart type in *out; false for the
// one-way types (errors, redirects, ...). `protocol` is 1 (ICMP) or 58 (ICMPv6).
bool icmp_counterpart(std::uint8_t protocol, std::uint16_t type, std::uint16_t* out);

// For a socket pair. For Transport::kIcmp, first.port is the ICMP type and
// second.port the code of the packet that was sent from `first`.
std::string community_id(const SocketPair& pair, std::uint16_t seed = 0);

}  // namespace sockscope
