// The common shape of a captured packet, decoded straight through and inline in the
// read loop: Ethernet with no or one 802.1Q tag, IPv4 without options or fragment bits
// or IPv6 without extension headers, TCP or UDP (not to a tunnel's port) whose header
// was captured and whose lengths agree. That is nearly every packet of a real capture;
// decode_record() keeps everything else (other link types, tag stacks, options,
// fragments, ICMP, tunnels, damage and its drop reasons). On the bench file the general code cost
// ~145 instructions a packet (cachegrind), most of them tests that the common shape answers the
// same way every time; this costs ~75, inline.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

#include "capture/link_types.hpp"
#include "capture/tunnel_ports.hpp"
#include "capture/wire.hpp"
#include "sockscope/capture_reader.hpp"

namespace sockscope::capture_detail {

// The first 8 bytes of an IPv4 header with IHL 5 and neither a fragment offset nor the
// more-fragments bit: version/IHL 0x45, flags and offset 0 but for DF (in memory order).
inline constexpr std::uint64_t kIpv4PlainMask =
    std::bit_cast<std::uint64_t>(std::array<std::uint8_t, 8>{0xff, 0, 0, 0, 0, 0, 0x3f, 0xff});
inline constexpr std::uint64_t kIpv4Plain =
    std::bit_cast<std::uint64_t>(std::array<std::uint8_t, 8>{0x45, 0, 0, 0, 0, 0, 0, 0});

// True when `raw` has the common shape: `out` is then exactly the one packet that
// decode_record() gives. False otherwise: call decode_record(), which sets again the
// fields this may have written. Reads stay within raw.caplen.
// Where a UDP packet's payload lies in the record: from `at` to `end` captured (within
// the IP length), `length` by the IP length.
struct UdpPayload {
  std::size_t at = 0, end = 0, length = 0;
};

// The common shape; with kVxlanOuter, only UDP to VXLAN's port (the outer packet of
// decode_vxlan_common()), `payload` then where its payload lies.
template <bool kVxlanOuter>
[[gnu::always_inline]] inline bool decode_common_shape(const RawPacket& raw, PacketInfo& out,
                                                       UdpPayload& payload_at) {
  const std::uint8_t* p = raw.data;
  const std::size_t cap = raw.caplen;
  if (raw.linktype != kLinkEthernet || cap < 14 + 20 + 8)
    return false;  // Ethernet, IPv4 + UDP at least
  // One 802.1Q tag or none, without a branch: whether a packet is tagged follows its
  // conversation, which a branch predictor cannot guess.
  const bool tagged = be16(p + 12) == kEtherVlan;
  const std::size_t off = tagged ? 18 : 14;
  out.vlan = (be16(p + 14) & 0x0fffu) & -std::uint32_t(tagged);
  const std::uint16_t ethertype = be16(p + off - 2);
  const std::uint8_t* ip = p + off;
  const std::size_t ip_cap = cap - off;  // >= 24
  std::size_t hlen, total;
  std::uint8_t proto;
  if (ethertype == kEtherIpv4) {
    // Version 4 with IHL 5, no fragment offset or more-fragments bit, and a total length
    // set (0 is left to the NIC by segmentation offload: the general code sizes it).
    std::uint64_t head;  // bytes 0-7, tested with one compare
    std::memcpy(&head, ip, 8);
    if ((head & kIpv4PlainMask) != kIpv4Plain) return false;
    hlen = 20;
    total = be16(ip + 2);
    proto = ip[9];
    if (total < 20) return false;
    out.family = Family::kV4;
    // The address and 12 zero bytes as one 16-byte store each: the key is made from
    // them right away (decode_loop()), and a 16-byte load of what two 8-byte stores
    // just wrote cannot be forwarded from them, so it waited for both to reach the
    // cache (a stall on most of the reading thread's packets, seen with perf).
    using Words = std::uint32_t __attribute__((vector_size(16)));
    std::uint32_t src, dst;
    std::memcpy(&src, ip + 12, 4);
    std::memcpy(&dst, ip + 16, 4);
    const Words src_words = {src, 0, 0, 0}, dst_words = {dst, 0, 0, 0};
    std::memcpy(out.src, &src_words, 16);
    std::memcpy(out.dst, &dst_words, 16);
  } else if (ethertype == kEtherIpv6) {
    // Version 6 with a payload length set (0: jumbogram or offload) and the transport
    // header next, not an extension header.
    if (ip_cap < 40 || (ip[0] >> 4) != 6) return false;
    const std::size_t payload_length = be16(ip + 4);
    if (payload_length == 0) return false;
    hlen = 40;
    total = 40 + payload_length;
    proto = ip[6];
    out.family = Family::kV6;
    std::memcpy(out.src, ip + 8, 16);
    std::memcpy(out.dst, ip + 24, 16);
  } else {
    return false;
  }
  // Transport bytes: those captured within the IP length (padding is not the packet's),
  // and those the IP header announces.
  const std::size_t t_cap = (ip_cap < total ? ip_cap : total) - hlen;
  const std::size_t t_len = total - hlen;
  const std::uint8_t* t = ip + hlen;
  std::uint32_t payload;
  if (proto == 6 && !kVxlanOuter) {
    if (t_cap < 20) return false;
    const std::size_t doff = std::size_t(t[12] >> 4) * 4;
    if (doff < 20 || doff > t_len) return false;
    payload = std::uint32_t(t_len - doff);
    out.transport = Transport::kTcp;
    out.tcp_flags = t[13];
    out.window = be16(t + 14);
    out.seq = be32(t + 4);
    out.ack = be32(t + 8);
  } else if (proto == 17) {
    if (t_cap < 8) return false;  // and so t_len >= 8: t_cap <= t_len
    if (kVxlanOuter) {
      if (udp_tunnel_kind(be16(t), be16(t + 2)) != TunnelKind::kVxlan) return false;
      payload_at.at = std::size_t(t - p) + 8;
      payload_at.end = std::size_t(t - p) + t_cap;
      payload_at.length = t_len - 8;
    } else if (may_carry_tunnel(be16(t), be16(t + 2))) {
      return false;  // decode_record() opens it
    }
    payload = std::uint32_t(t_len - 8);
    out.transport = Transport::kUdp;
    out.tcp_flags = 0;
    out.window = 0;
    out.seq = out.ack = 0;
  } else {
    return false;
  }
  out.ts_ns = raw.ts_ns;
  out.kind = PacketInfo::Kind::kNormal;
  out.protocol = proto;
  out.first_fragment = false;
  out.sctp_init = false;
  out.inner = false;
  out.src_port = be16(t);
  out.dst_port = be16(t + 2);
  out.icmp_id = 0;
  out.ip_bytes = std::uint32_t(total);
  out.payload_bytes = payload;
  out.tunnel = TunnelKind::kNone;
  return true;
}

[[gnu::always_inline]] inline bool decode_common(const RawPacket& raw, PacketInfo& out) {
  UdpPayload unused;
  return decode_common_shape<false>(raw, out, unused);
}

// VXLAN around the common shape, the usual tunnel of data centre captures: true with the
// outer UDP packet in out[0] and the inner one in out[1] (its Tunnel in tunnels[1] when
// given), exactly what decode_record() gives; false for anything else (nested tunnels, tag stacks,
// ...), which decode_record() then decodes. Without this a VXLAN record took the general decoder
// twice over (~700 instructions against ~170 here, cachegrind).
inline bool decode_vxlan_common(const RawPacket& raw, PacketInfo* out, Tunnel* tunnels) {
  UdpPayload udp;
  if (!decode_common_shape<true>(raw, out[0], udp)) return false;
  constexpr std::size_t kVxlanHeader = 8;
  if (udp.end < udp.at + kVxlanHeader || !(raw.data[udp.at] & 0x08)) return false;  // I: VNI
  // The inner frame: the rest of the UDP payload (captured, and by the IP length).
  const std::size_t inner_at = udp.at + kVxlanHeader;
  const RawPacket inner{.ts_ns = raw.ts_ns,
                        .caplen = std::uint32_t(udp.end - inner_at),
                        .wire_len = std::uint32_t(udp.length - kVxlanHeader),
                        .linktype = kLinkEthernet,
                        .data = raw.data + inner_at};
  if (!decode_common(inner, out[1])) return false;
  out[1].tunnel = TunnelKind::kVxlan;
  out[1].inner = true;
  if (!tunnels) return true;
  // Every field is set (no default fill first: zeroing the 40 bytes cost ~14
  // instructions and a mispredicted branch per record, cachegrind).
  Tunnel& t = tunnels[1];
  static_assert(sizeof(Tunnel) == 40, "a new Tunnel field must be set here");
  t.kind = TunnelKind::kVxlan;
  t.depth = 1;
  t.outer_protocol = 17;
  t.outer_family = out[0].family;
  t.outer_src_port = out[0].src_port;
  t.outer_dst_port = out[0].dst_port;
  std::memcpy(t.outer_src, out[0].src, 16);
  std::memcpy(t.outer_dst, out[0].dst, 16);
  return true;
}

}  // namespace sockscope::capture_detail
