// Which UDP ports carry which tunnel: shared by the tunnel decoder and the read loop's
// fast path, which must send every packet that may carry a tunnel to the general
// decoder. Internal to the capture layer.
//
// A tunnel is recognised by its destination port (VXLAN, VXLAN-GPE, Geneve, GTP-U and
// MPLS over UDP send to the well-known port whatever their source port), Teredo by
// either port (a Teredo server and relay answer from 3544).
#pragma once

#include <cstdint>

#include "sockscope/capture.hpp"

namespace sockscope::capture_detail {

constexpr TunnelKind udp_tunnel_kind(std::uint16_t sport, std::uint16_t dport) {
  switch (dport) {
    case 4789:  // IANA's VXLAN port
    case 8472:  // Linux's VXLAN default before the IANA port, still seen in captures
      return TunnelKind::kVxlan;
    case 4790: return TunnelKind::kVxlanGpe;
    case 6081: return TunnelKind::kGeneve;
    case 2152: return TunnelKind::kGtpU;
    case 6635: return TunnelKind::kMplsUdp;
    case 3544: return TunnelKind::kTeredo;
    default: return sport == 3544 ? TunnelKind::kTeredo : TunnelKind::kNone;
  }
}

// The fast path's test: a range comparison (the tunnels' destination ports lie between
// 2152 and 8472) decides nearly every packet; the exact test is out of the way.
[[gnu::always_inline]] inline bool may_carry_tunnel(std::uint16_t sport, std::uint16_t dport) {
  if ((unsigned(dport) - 2152u <= 8472u - 2152u) | (sport == 3544)) [[unlikely]] {
    return udp_tunnel_kind(sport, dport) != TunnelKind::kNone;
  }
  return false;
}

}  // namespace sockscope::capture_detail
