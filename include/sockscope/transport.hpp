// sockscope/transport.hpp: the transport protocols of the port registry
// (tcp, udp, sctp, dccp) plus icmp for captured conversations.
//
//   #include <iostream>
//   std::cout << to_string(*parse_transport("UDP")) << '\n';               // => udp
//   std::cout << int(ip_protocol(Transport::kIcmp, Family::kV6)) << '\n';  // => 58
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string_view>

#include "sockscope/error.hpp"
#include "sockscope/ip_address.hpp"

namespace sockscope {

enum class Transport : std::uint8_t { kTcp, kUdp, kSctp, kDccp, kIcmp };

inline constexpr Transport kAllTransports[] = {Transport::kTcp, Transport::kUdp, Transport::kSctp,
                                               Transport::kDccp, Transport::kIcmp};

std::string_view to_string(Transport transport);  // "tcp", "udp", ...
// Case-insensitive; also accepts "icmp6"/"icmpv6" as icmp.
std::expected<Transport, Error> parse_transport(std::string_view text,
                                                std::size_t column_offset = 0);
// IP protocol number (6, 17, 132, 33; icmp is 1 over IPv4 and 58 over IPv6).
std::uint8_t ip_protocol(Transport transport, Family family);
std::optional<Transport> transport_of_protocol(std::uint8_t protocol);

// Whether the transport has ports (icmp has type/code instead).
constexpr bool has_ports(Transport t) { return t != Transport::kIcmp; }

}  // namespace sockscope
