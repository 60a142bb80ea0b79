// Encapsulations for test captures: each function returns the bytes of one tunnel
// header followed by what it carries, to put in a Packet's `data` (UDP, GRE, IP in IP)
// or an Ethernet frame. Written from the RFCs (VXLAN 7348, VXLAN-GPE draft, Geneve 8926,
// Teredo 4380, GTP-U TS 29.281, MPLS 3032, GRE 2784/2890, ERSPAN draft-foschiano,
// PPPoE 2516, NSH 8300, PIM 7761) so that tshark, not our decoder, judges what they mean.
//
//   Packet inner{.src = v4("10.1.0.1"), .dst = v4("10.1.0.2"), .protocol = 6, ...};
//   Packet outer{.src = v4("192.0.2.1"), .dst = v4("192.0.2.2"), .protocol = 17,
//                .sport = 50000, .dport = 4789, .data = vxlan(7, frame(1, build_ip(inner)))};
//   w.packet(t, frame(1, build_ip(outer)));
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "capture/capture_writer.hpp"

namespace sockscope::testing {

// An Ethernet frame of any type (VLAN ids outer first).
Bytes ethernet(std::uint16_t type, const Bytes& payload,
               const std::vector<std::uint16_t>& vlans = {});

Bytes vxlan(std::uint32_t vni, const Bytes& inner_frame);
// next: 1 IPv4, 2 IPv6, 3 Ethernet, 4 NSH, 5 MPLS.
Bytes vxlan_gpe(std::uint8_t next, const Bytes& inner);
// protocol: an ethertype (0x6558 Ethernet); option_words of 4-byte options.
Bytes geneve(std::uint16_t protocol, std::size_t option_words, const Bytes& inner);
Bytes teredo(const Bytes& inner_ipv6, bool origin_indication, bool authentication);
Bytes gtp_u(std::uint32_t teid, const Bytes& inner_ip, bool extension_header);
Bytes mpls(const std::vector<std::uint32_t>& labels, const Bytes& inner);

struct GreOptions {
  bool checksum = false;
  std::optional<std::uint32_t> key, sequence;
};
Bytes gre(std::uint16_t protocol, const Bytes& inner, const GreOptions& options = {});
Bytes erspan_ii(std::uint16_t session, const Bytes& frame);  // GRE payload (S set)
Bytes erspan_iii(std::uint16_t session, const Bytes& frame, bool subheader);

Bytes pppoe_session(std::uint16_t session, const Bytes& inner_ip);
Bytes pim_register(const Bytes& inner_ip);  // IP protocol 103's payload
// next: as vxlan_gpe's.
Bytes nsh(std::uint8_t next, const Bytes& inner);

// An IP packet from src to dst carrying `data` (protocol 17: over UDP with the ports).
Bytes carrier(const char* src, const char* dst, std::uint8_t protocol, const Bytes& data,
              std::uint16_t sport = 0, std::uint16_t dport = 0);

}  // namespace sockscope::testing
