#include "sockscope/transport.hpp"

#include <string>

namespace sockscope {

std::string_view to_string(Transport transport) {
  switch (transport) {
    case Transport::kTcp: return "tcp";
    case Transport::kUdp: return "udp";
    case Transport::kSctp: return "sctp";
    case Transport::kDccp: return "dccp";
    case Transport::kIcmp: return "icmp";
  }
  return "?";
}

std::expected<Transport, Error> parse_transport(std::string_view text, std::size_t column_offset) {
  std::string lower(text);
  for (char& c : lower) c = char(c >= 'A' && c <= 'Z' ? c + 32 : c);
  for (Transport t : kAllTransports) {
    if (lower == to_string(t)) return t;
  }
  if (lower == "icmp6" || lower == "icmpv6") return Transport::kIcmp;
  return std::unexpected(Error::at(text.empty() ? Error::Code::kEmpty : Error::Code::kBadTransport,
                                   "unknown transport (want tcp, udp, sctp, dccp or icmp)",
                                   column_offset + 1, text));
}

std::uint8_t ip_protocol(Transport transport, Family family) {
  switch (transport) {
    case Transport::kTcp: return 6;
    case Transport::kUdp: return 17;
    case Transport::kSctp: return 132;
    case Transport::kDccp: return 33;
    case Transport::kIcmp: return family == Family::kV6 ? 58 : 1;
  }
  return 0;
}

std::optional<Transport> transport_of_protocol(std::uint8_t protocol) {
  switch (protocol) {
    case 6: return Transport::kTcp;
    case 17: return Transport::kUdp;
    case 132: return Transport::kSctp;
    case 33: return Transport::kDccp;
    case 1:
    case 58: return Transport::kIcmp;
    default: return std::nullopt;
  }
}

}  // namespace sockscope
