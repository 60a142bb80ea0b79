// The state of decoding one capture record, shared by the link/IP/transport decoder
// (packet_decoder.cpp) and the tunnel decoder (tunnel_decoder.cpp), which call each
// other as a record's layers nest. Internal to the capture layer.
//
// Every layer function takes the bytes of its layer as a Frame (captured bytes and
// the length on the wire or as the enclosing header declares it), never reads outside
// the captured ones, and returns true when it wrote a packet (PacketInfo) for the
// record, or false with ctx.why. A layer that writes its own packet before opening a
// tunnel (UDP) keeps it when the inside fails: that failure is noted as inner_why.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "sockscope/capture_reader.hpp"

namespace sockscope::capture_detail {

struct Frame {
  const std::uint8_t* p;
  std::size_t cap;   // bytes captured
  std::size_t wire;  // bytes on the wire (>= cap but for damaged headers)
  // The bytes from `offset` on, the wire length limited to `length` when given.
  Frame from(std::size_t offset) const {
    return Frame{p + offset, cap > offset ? cap - offset : 0, wire > offset ? wire - offset : 0};
  }
  Frame limit(std::size_t length) const { return Frame{p, std::min(cap, length), length}; }
};

// Encapsulation layers (tunnels and MPLS/PPPoE/NSH shims) one record may nest.
inline constexpr int kMaxLayers = 16;

struct DecodeContext {
  const DecodeOptions& options;
  PacketInfo* out;        // room for kMaxPacketsPerRecord
  Tunnel* tunnels;        // beside `out`, or null (only the kinds are kept)
  std::size_t count = 0;  // packets written
  std::uint64_t ts_ns = 0;
  std::uint32_t vlan = 0;  // tags of the innermost Ethernet frame (outer << 12 | inner)
  Tunnel tunnel;           // around the packet being decoded (kind kNone at the top)
  int layers = 0;
  std::uint32_t kinds_opened = 0;  // bit per TunnelKind opened
  DropReason why = DropReason::kNotIp;
  bool inner_dropped = false;
  DropReason inner_why = DropReason::kNotIp;

  PacketInfo& slot() { return out[count]; }
  bool fail(DropReason reason) {
    why = reason;
    return false;
  }
  // One more encapsulation layer; false (tunnel-too-deep) past the limit.
  bool enter_layer() { return ++layers <= kMaxLayers || fail(DropReason::kTunnelTooDeep); }
};

// Starts the packet in slot(): the fields every layer below may leave unset.
void begin_packet(DecodeContext& ctx);

// Link and network layers (packet_decoder.cpp).
bool decode_ethernet(DecodeContext& ctx, Frame f);  // a frame inside a tunnel
bool decode_ethertype(DecodeContext& ctx, std::uint16_t type, Frame f);
bool decode_ip(DecodeContext& ctx, Frame f);  // IPv4 or IPv6 by the version nibble

// Tunnels and shims (tunnel_decoder.cpp).
// A UDP packet was written to slot(): when its ports name a tunnel whose header is
// there, writes the packets inside it. Returns whether the ports named a tunnel.
bool open_udp_tunnel(DecodeContext& ctx, std::uint16_t sport, std::uint16_t dport, Frame payload);
// IP protocol 4, 41, 47 or 103: the packet inside replaces the outer one (no ports).
bool decode_ip_tunnel(DecodeContext& ctx, std::uint8_t protocol, Frame payload);
bool decode_mpls(DecodeContext& ctx, Frame f);
bool decode_pppoe(DecodeContext& ctx, Frame f);
bool decode_nsh(DecodeContext& ctx, Frame f);

}  // namespace sockscope::capture_detail
