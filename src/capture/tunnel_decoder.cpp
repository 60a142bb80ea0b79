// Tunnels and encapsulation shims: UDP tunnels (VXLAN, VXLAN-GPE, Geneve, Teredo,
// GTP-U, MPLS over UDP), GRE (RFC 2784/2890, PPTP's enhanced GRE, ERSPAN I/II/III,
// WCCP, Cisco metadata), IP in IP (4in4, 6in4, 4in6, 6in6), PIM registers, MPLS label
// stacks, PPPoE sessions and NSH. Written here rather than taken from a library: no Debian library
// decodes these headers without a whole dissector framework (libwireshark), and the
// fuzzed decoders stay standard-library only. Every read is checked against the
// captured length; nesting is bounded by kMaxTunnelDepth and kMaxLayers.
#include <cstring>

#include "capture/decode_context.hpp"
#include "capture/link_types.hpp"
#include "capture/tunnel_ports.hpp"
#include "capture/wire.hpp"

namespace sockscope::capture_detail {
namespace {

// A tunnel around what is decoded next; `outer` is the packet whose payload carries it.
bool enter_tunnel(DecodeContext& ctx, TunnelKind kind, const PacketInfo& outer, bool udp) {
  if (ctx.tunnel.depth >= kMaxTunnelDepth || ctx.count >= kMaxPacketsPerRecord) {
    return ctx.fail(DropReason::kTunnelTooDeep);
  }
  if (!ctx.enter_layer()) return false;
  Tunnel t;
  t.kind = kind;
  t.depth = std::uint8_t(ctx.tunnel.depth + 1);
  t.outer_protocol = outer.protocol;
  t.outer_family = outer.family;
  if (udp) {
    t.outer_src_port = outer.src_port;
    t.outer_dst_port = outer.dst_port;
  }
  std::memcpy(t.outer_src, outer.src, 16);
  std::memcpy(t.outer_dst, outer.dst, 16);
  ctx.tunnel = t;
  ctx.kinds_opened |= 1u << unsigned(kind);
  return true;
}

// Where a header cut short is a truncated tunnel and one too short by its own lengths
// a bad one.
bool short_header(DecodeContext& ctx, Frame f, std::size_t need) {
  return ctx.fail(f.wire >= need ? DropReason::kTruncatedTunnel : DropReason::kBadTunnelHeader);
}

// The next-protocol numbers of VXLAN-GPE and NSH.
bool decode_next_protocol(DecodeContext& ctx, std::uint8_t next, Frame f) {
  switch (next) {
    case 1: return decode_ethertype(ctx, kEtherIpv4, f);
    case 2: return decode_ethertype(ctx, kEtherIpv6, f);
    case 3: return decode_ethernet(ctx, f);
    case 4: return decode_nsh(ctx, f);
    case 5: return decode_mpls(ctx, f);
    default: return ctx.fail(DropReason::kNotIp);
  }
}

// Teredo (RFC 4380): an IPv6 packet after an optional authentication indication
// (0x0001, id and value lengths, id, value, nonce, confirmation) and an optional origin
// indication (0x0000, port, address). Where the IPv6 header starts, or kNotTeredo when
// the payload is something else sent to or from port 3544.
constexpr std::size_t kNotTeredo = ~std::size_t(0);
std::size_t teredo_offset(Frame f) {
  const std::uint8_t* q = f.p;
  std::size_t off = 0;
  if (f.cap >= 4 && be16(q) == 0x0001) off = 4 + std::size_t(q[2]) + q[3] + 9;
  if (f.cap >= off + 2 && be16(q + off) == 0x0000) off += 8;
  if (f.cap < off + 1 || (q[off] >> 4) != 6 || f.wire < off + 40) return kNotTeredo;
  if (f.cap >= off + 6 && 40 + std::size_t(be16(q + off + 4)) > f.wire - off) return kNotTeredo;
  return off;
}

// GTP-U (3GPP TS 29.281): version 1, protocol type GTP; a G-PDU (type 255) carries an IP
// packet after the 8-byte header, the optional sequence/N-PDU/next-type word and the
// chain of extension headers (open_udp_tunnel() leaves the other messages alone).
bool decode_gtp_u(DecodeContext& ctx, Frame f) {
  const std::uint8_t* q = f.p;
  if (f.cap < 8) return short_header(ctx, f, 8);
  if ((q[0] >> 5) != 1 || !(q[0] & 0x10)) return ctx.fail(DropReason::kBadTunnelHeader);
  const std::size_t length = 8 + std::size_t(be16(q + 2));
  std::size_t off = 8;
  if (q[0] & 0x07) {
    if (f.cap < 12) return short_header(ctx, f, 12);
    std::uint8_t next = q[11];
    off = 12;
    for (int i = 0; next != 0; ++i) {
      if (i == kMaxLayers) return ctx.fail(DropReason::kBadTunnelHeader);
      if (f.cap < off + 1) return short_header(ctx, f, off + 1);
      const std::size_t ext = std::size_t(q[off]) * 4;
      if (ext == 0) return ctx.fail(DropReason::kBadTunnelHeader);
      if (f.cap < off + ext) return short_header(ctx, f, off + ext);
      next = q[off + ext - 1];
      off += ext;
    }
  }
  if (length < off) return ctx.fail(DropReason::kBadTunnelHeader);
  return decode_ip(ctx, f.limit(length).from(off));
}

bool decode_udp_inside(DecodeContext& ctx, TunnelKind kind, Frame f, std::size_t teredo) {
  const std::uint8_t* q = f.p;
  switch (kind) {
    case TunnelKind::kVxlan:  // flags with I (a valid VNI), 3 reserved, VNI, reserved
      if (f.cap < 8) return short_header(ctx, f, 8);
      if (!(q[0] & 0x08)) return ctx.fail(DropReason::kBadTunnelHeader);
      return decode_ethernet(ctx, f.from(8));
    case TunnelKind::kVxlanGpe:  // flags (P: next protocol present), 2 reserved, next
      if (f.cap < 8) return short_header(ctx, f, 8);
      if (q[0] & 0x04) return decode_next_protocol(ctx, q[3], f.from(8));
      return decode_ethernet(ctx, f.from(8));
    case TunnelKind::kGeneve: {  // version, option length, flags, protocol, VNI, options
      if (f.cap < 8) return short_header(ctx, f, 8);
      if ((q[0] >> 6) != 0) return ctx.fail(DropReason::kBadTunnelHeader);
      const std::size_t header = 8 + std::size_t(q[0] & 0x3f) * 4;
      if (f.cap < header) return short_header(ctx, f, header);
      const std::uint16_t protocol = be16(q + 2);
      if (protocol == kEtherBridged) return decode_ethernet(ctx, f.from(header));
      return decode_ethertype(ctx, protocol, f.from(header));
    }
    case TunnelKind::kTeredo: return decode_ip(ctx, f.from(teredo));
    case TunnelKind::kGtpU: return decode_gtp_u(ctx, f);
    case TunnelKind::kMplsUdp: return decode_mpls(ctx, f);
    default: return ctx.fail(DropReason::kOtherProtocol);
  }
}

// PPP's protocol field (1 or 2 bytes, RFC 1661 protocol field compression) after an
// optional address/control pair: IPv4 or IPv6 inside.
bool decode_ppp(DecodeContext& ctx, Frame f) {
  std::size_t off = f.cap >= 2 && f.p[0] == 0xff && f.p[1] == 0x03 ? 2 : 0;
  if (f.cap < off + 1) return short_header(ctx, f, off + 1);
  std::uint16_t protocol = f.p[off];
  if (!(protocol & 1)) {
    if (f.cap < off + 2) return short_header(ctx, f, off + 2);
    protocol = be16(f.p + off);
    off += 2;
  } else {
    off += 1;
  }
  if (protocol == 0x21) return decode_ethertype(ctx, kEtherIpv4, f.from(off));
  if (protocol == 0x57) return decode_ethertype(ctx, kEtherIpv6, f.from(off));
  return ctx.fail(DropReason::kNotIp);
}

// ERSPAN type III: version 2, ... , frame type and O (a platform subheader follows).
bool decode_erspan_iii(DecodeContext& ctx, Frame f) {
  if (f.cap < 12) return short_header(ctx, f, 12);
  if ((f.p[0] >> 4) != 2) return ctx.fail(DropReason::kBadTunnelHeader);
  const std::size_t header = 12 + ((f.p[11] & 0x01) ? 8 : 0);
  if (f.cap < header) return short_header(ctx, f, header);
  const unsigned frame_type = (f.p[10] >> 2) & 0x1f;
  if (frame_type == 0) return decode_ethernet(ctx, f.from(header));
  if (frame_type == 2) return decode_ip(ctx, f.from(header));
  return ctx.fail(DropReason::kBadTunnelHeader);
}

// What a GRE header's protocol type carries, `sequenced` when its S bit was set.
bool decode_gre_payload(DecodeContext& ctx, std::uint16_t protocol, bool sequenced, Frame f,
                        const PacketInfo& outer) {
  TunnelKind kind = TunnelKind::kGre;
  if (protocol == kEtherErspan) kind = sequenced ? TunnelKind::kErspanII : TunnelKind::kErspanI;
  if (protocol == kEtherErspan3) kind = TunnelKind::kErspanIII;
  if (!enter_tunnel(ctx, kind, outer, false)) return false;
  switch (protocol) {
    case kEtherBridged: return decode_ethernet(ctx, f);
    case kEtherErspan:
      if (!sequenced) return decode_ethernet(ctx, f);  // type I: the mirrored frame
      if (f.cap < 8) return short_header(ctx, f, 8);
      if ((f.p[0] >> 4) != 1) return ctx.fail(DropReason::kBadTunnelHeader);
      return decode_ethernet(ctx, f.from(8));
    case kEtherErspan3: return decode_erspan_iii(ctx, f);
    case kEtherPpp: return decode_ppp(ctx, f);  // PPTP
    case kEtherWccp:  // WCCP redirect: a 4-byte header unless IPv4 follows at once
      if (f.cap >= 1 && (f.p[0] >> 4) == 4) return decode_ethertype(ctx, kEtherIpv4, f);
      if (f.cap < 4) return short_header(ctx, f, 4);
      return decode_ethertype(ctx, kEtherIpv4, f.from(4));
    case kEtherCiscoMeta:  // Cisco metadata, GRE form: type, version, length, options, SGT
      if (f.cap < 8) return short_header(ctx, f, 8);
      return decode_ethertype(ctx, be16(f.p), f.from(8));
    default: return decode_ethertype(ctx, protocol, f);  // IPv4, IPv6, MPLS, keepalive...
  }
}

// GRE: flags and version, protocol type, then checksum (C), key (K), sequence (S);
// version 1 (PPTP) always has a key and may have an acknowledgement.
bool decode_gre(DecodeContext& ctx, Frame f) {
  if (f.cap < 4) return short_header(ctx, f, 4);
  const std::uint16_t flags = be16(f.p);
  const std::uint16_t protocol = be16(f.p + 2);
  const bool sequenced = flags & 0x1000;
  std::size_t header;
  switch (flags & 0x7) {
    case 0:
      if (flags & 0x4000) return ctx.fail(DropReason::kBadTunnelHeader);  // RFC 1701 routing
      header = 4 + ((flags & 0x8000) ? 4 : 0) + ((flags & 0x2000) ? 4 : 0) + (sequenced ? 4 : 0);
      break;
    case 1:
      if (!(flags & 0x2000) || protocol != kEtherPpp) return ctx.fail(DropReason::kBadTunnelHeader);
      header = 8 + (sequenced ? 4 : 0) + ((flags & 0x0080) ? 4 : 0);
      break;
    default: return ctx.fail(DropReason::kBadTunnelHeader);
  }
  if (f.cap < header) return short_header(ctx, f, header);
  const PacketInfo outer = ctx.slot();
  return decode_gre_payload(ctx, protocol, sequenced, f.from(header), outer);
}

}  // namespace

bool open_udp_tunnel(DecodeContext& ctx, std::uint16_t sport, std::uint16_t dport, Frame payload) {
  const TunnelKind kind = udp_tunnel_kind(sport, dport);
  if (kind == TunnelKind::kNone) return false;
  std::size_t teredo = 0;
  if (kind == TunnelKind::kTeredo && (teredo = teredo_offset(payload)) == kNotTeredo) {
    return false;  // port 3544 carrying something else
  }
  if (kind == TunnelKind::kGtpU && payload.cap >= 2 && payload.p[1] != 0xff) {
    return false;  // GTP-U signalling (echo, error indication, end marker): no packet inside
  }
  const bool ok = enter_tunnel(ctx, kind, ctx.out[ctx.count - 1], true) &&
                  decode_udp_inside(ctx, kind, payload, teredo);
  if (!ok) {
    ctx.inner_dropped = true;
    ctx.inner_why = ctx.why;
  }
  return true;
}

// PIM (RFC 7761): version 2; a register message (type 1) carries the multicast packet
// after its 4-byte header and 4 bytes of flags. Other PIM messages carry no packet.
bool decode_pim(DecodeContext& ctx, Frame f) {
  if (f.cap < 1) return short_header(ctx, f, 1);
  if (f.p[0] != 0x21) return ctx.fail(DropReason::kOtherProtocol);  // not a v2 register
  if (f.cap < 8) return short_header(ctx, f, 8);
  const PacketInfo outer = ctx.slot();
  if (!enter_tunnel(ctx, TunnelKind::kPimRegister, outer, false)) return false;
  return decode_ip(ctx, f.from(8));
}

bool decode_ip_tunnel(DecodeContext& ctx, std::uint8_t protocol, Frame payload) {
  if (protocol == 47) return decode_gre(ctx, payload);
  if (protocol == 103) return decode_pim(ctx, payload);
  const bool v4_outer = ctx.slot().family == Family::kV4;
  TunnelKind kind;
  if (protocol == 4) {
    kind = v4_outer ? TunnelKind::kIpInIp : TunnelKind::k4In6;
  } else {
    kind = v4_outer ? TunnelKind::k6In4 : TunnelKind::k6In6;
  }
  const PacketInfo outer = ctx.slot();
  if (!enter_tunnel(ctx, kind, outer, false)) return false;
  if (payload.cap >= 1 && (payload.p[0] >> 4) != (protocol == 4 ? 4 : 6)) {
    return ctx.fail(DropReason::kBadIpHeader);
  }
  return decode_ip(ctx, payload);
}

// MPLS: labels until the bottom of stack, then IPv4, IPv6 or (a pseudowire with its
// control word) Ethernet, told apart by the first nibble.
bool decode_mpls(DecodeContext& ctx, Frame f) {
  if (!ctx.enter_layer()) return false;
  std::size_t off = 0;
  for (int labels = 0;; ++labels) {
    if (labels == kMaxLayers) return ctx.fail(DropReason::kTunnelTooDeep);
    if (f.cap < off + 4) return short_header(ctx, f, off + 4);
    const bool bottom = f.p[off + 2] & 0x01;
    off += 4;
    if (bottom) break;
  }
  if (f.cap < off + 1) return short_header(ctx, f, off + 1);
  switch (f.p[off] >> 4) {
    case 4:
    case 6: return decode_ip(ctx, f.from(off));
    case 0:
      if (f.cap < off + 4) return short_header(ctx, f, off + 4);
      return decode_ethernet(ctx, f.from(off + 4));
    default: return ctx.fail(DropReason::kNotIp);
  }
}

// PPPoE session stage (RFC 2516): version/type 0x11, code 0, session, length, then PPP.
bool decode_pppoe(DecodeContext& ctx, Frame f) {
  if (!ctx.enter_layer()) return false;
  if (f.cap < 8) return short_header(ctx, f, 8);
  if (f.p[0] != 0x11 || f.p[1] != 0x00) return ctx.fail(DropReason::kBadTunnelHeader);
  const std::size_t length = be16(f.p + 4);
  if (length < 2) return ctx.fail(DropReason::kBadTunnelHeader);
  return decode_ppp(ctx, f.from(6).limit(length));
}

// NSH (RFC 8300): version 0, length in 4-byte words, next protocol.
bool decode_nsh(DecodeContext& ctx, Frame f) {
  if (!ctx.enter_layer()) return false;
  if (f.cap < 8) return short_header(ctx, f, 8);
  if ((f.p[0] >> 6) != 0) return ctx.fail(DropReason::kBadTunnelHeader);
  const std::size_t header = std::size_t(f.p[1] & 0x3f) * 4;
  if (header < 8) return ctx.fail(DropReason::kBadTunnelHeader);
  if (f.cap < header) return short_header(ctx, f, header);
  return decode_next_protocol(ctx, f.p[3], f.from(header));
}

}  // namespace sockscope::capture_detail
