// Link layer, IP and transport decoding of one captured record into PacketInfos: the
// record's own packet and, inside tunnels (tunnel_decoder.cpp), the ones it carries.
// Every read is checked against the captured length first; lengths taken from headers
// (IP total length, IPv6 payload length) size the byte counts, never reads.
#include <cstring>

#include "capture/decode_context.hpp"
#include "capture/ip_headers.hpp"
#include "capture/link_types.hpp"
#include "capture/wire.hpp"
#include "sockscope/capture_reader.hpp"

namespace sockscope::capture_detail {
namespace {

bool emit(DecodeContext& ctx) {
  ++ctx.count;
  return true;
}

bool decode_tcp(DecodeContext& ctx, const std::uint8_t* p, std::size_t cap, std::size_t len) {
  PacketInfo& out = ctx.slot();
  out.transport = Transport::kTcp;
  if (cap < 20) return ctx.fail(DropReason::kTruncatedTransport);
  const std::size_t doff = std::size_t(p[12] >> 4) * 4;
  if (doff < 20 || doff > len) return ctx.fail(DropReason::kBadTransportHeader);
  out.src_port = be16(p);
  out.dst_port = be16(p + 2);
  out.seq = be32(p + 4);
  out.ack = be32(p + 8);
  out.tcp_flags = p[13];
  out.window = be16(p + 14);
  out.payload_bytes = std::uint32_t(len - doff);
  return emit(ctx);
}

bool decode_udp(DecodeContext& ctx, const std::uint8_t* p, std::size_t cap, std::size_t len) {
  PacketInfo& out = ctx.slot();
  out.transport = Transport::kUdp;
  if (cap < 8) return ctx.fail(DropReason::kTruncatedTransport);
  if (len < 8) return ctx.fail(DropReason::kBadTransportHeader);
  out.src_port = be16(p);
  out.dst_port = be16(p + 2);
  out.payload_bytes = std::uint32_t(len - 8);
  emit(ctx);
  if (ctx.options.open_tunnels && out.kind == PacketInfo::Kind::kNormal) {
    open_udp_tunnel(ctx, out.src_port, out.dst_port, Frame{p + 8, cap - 8, len - 8});
  }
  return true;
}

bool decode_icmp(DecodeContext& ctx, const std::uint8_t* p, std::size_t cap, std::size_t len,
                 bool v6) {
  PacketInfo& out = ctx.slot();
  if ((out.protocol == 58) != v6) return ctx.fail(DropReason::kOtherProtocol);
  out.transport = Transport::kIcmp;
  if (cap < 4) return ctx.fail(DropReason::kTruncatedTransport);
  if (len < 8) return ctx.fail(DropReason::kBadTransportHeader);
  const std::uint8_t type = p[0];
  out.src_port = type;
  out.dst_port = p[1];
  out.payload_bytes = std::uint32_t(len - 8);
  if (icmp_has_id(v6, type)) {
    if (cap < 6) return ctx.fail(DropReason::kTruncatedTransport);
    out.icmp_id = be16(p + 4);
  }
  if (out.kind == PacketInfo::Kind::kNormal && is_icmp_error(v6, type) && cap > 8 &&
      decode_quoted(p + 8, cap - 8, v6, out)) {
    out.kind = PacketInfo::Kind::kIcmpError;
  }
  return emit(ctx);
}

// Transport header at p (cap bytes captured, len bytes by the IP length fields).
bool decode_transport(DecodeContext& ctx, const std::uint8_t* p, std::size_t cap, std::size_t len,
                      bool v6, bool verify) {
  if (cap > len) cap = len;  // link-layer padding is not part of the packet
  PacketInfo& out = ctx.slot();
  if (verify && !transport_checksum_ok(p, cap, len, v6, out)) {
    out.kind = PacketInfo::Kind::kBadChecksum;
  }
  switch (out.protocol) {
    case 6: return decode_tcp(ctx, p, cap, len);
    case 17: return decode_udp(ctx, p, cap, len);
    case 132:
      out.transport = Transport::kSctp;
      if (cap < 12) return ctx.fail(DropReason::kTruncatedTransport);
      if (len < 12) return ctx.fail(DropReason::kBadTransportHeader);
      out.src_port = be16(p);
      out.dst_port = be16(p + 2);
      out.sctp_init = cap > 12 && p[12] == 1;
      out.payload_bytes = std::uint32_t(len - 12);
      return emit(ctx);
    case 33: {
      out.transport = Transport::kDccp;
      if (cap < 12) return ctx.fail(DropReason::kTruncatedTransport);
      const std::size_t doff = std::size_t(p[4]) * 4;
      if (doff < 12 || doff > len) return ctx.fail(DropReason::kBadTransportHeader);
      out.src_port = be16(p);
      out.dst_port = be16(p + 2);
      out.payload_bytes = std::uint32_t(len - doff);
      return emit(ctx);
    }
    case 1:
    case 58: return decode_icmp(ctx, p, cap, len, v6);
    case 4:
    case 41:
    case 47:
    case 103:
      if (!ctx.options.open_tunnels) break;
      return decode_ip_tunnel(ctx, out.protocol, Frame{p, cap, len});
    default: break;
  }
  return ctx.fail(DropReason::kOtherProtocol);
}

bool decode_ipv4(DecodeContext& ctx, Frame f) {
  const std::uint8_t* p = f.p;
  if (f.cap < 20) return ctx.fail(DropReason::kTruncatedIp);
  if ((p[0] >> 4) != 4) return ctx.fail(DropReason::kBadIpHeader);
  const std::size_t ihl = std::size_t(p[0] & 15) * 4;
  if (ihl < 20) return ctx.fail(DropReason::kBadIpHeader);
  if (f.cap < ihl) return ctx.fail(DropReason::kTruncatedIp);
  const bool verify = ctx.options.verify_checksums;
  if (verify && fold(ones_sum(p, ihl)) != 0xffff) return ctx.fail(DropReason::kBadIpChecksum);
  std::size_t total = be16(p + 2);
  if (total == 0) total = f.wire;  // segmentation offload: the length is left to the NIC
  if (total < ihl) return ctx.fail(DropReason::kBadIpHeader);
  begin_packet(ctx);
  PacketInfo& out = ctx.slot();
  out.family = Family::kV4;
  out.protocol = p[9];
  out.ip_bytes = std::uint32_t(total);
  std::memcpy(out.src, p + 12, 4);
  std::memset(out.src + 4, 0, 12);
  std::memcpy(out.dst, p + 16, 4);
  std::memset(out.dst + 4, 0, 12);
  const std::uint16_t frag = be16(p + 6);
  const bool more = frag & 0x2000;
  if ((frag & 0x1fff) != 0) {
    out.kind = PacketInfo::Kind::kFragment;
    out.fragment_id = be16(p + 4);
    out.payload_bytes = std::uint32_t(total - ihl);
    return emit(ctx);
  }
  if (more) {
    out.first_fragment = true;
    out.fragment_id = be16(p + 4);
  }
  // A first fragment's checksum covers the whole datagram: not checked.
  return decode_transport(ctx, p + ihl, f.cap - ihl, total - ihl, false, verify && !more);
}

bool decode_ipv6(DecodeContext& ctx, Frame f) {
  const std::uint8_t* p = f.p;
  if (f.cap < 40) return ctx.fail(DropReason::kTruncatedIp);
  if ((p[0] >> 4) != 6) return ctx.fail(DropReason::kBadIpHeader);
  std::size_t total = 40 + std::size_t(be16(p + 4));
  if (total == 40 && f.wire > 40) total = f.wire;  // jumbogram or offload
  begin_packet(ctx);
  PacketInfo& out = ctx.slot();
  out.family = Family::kV6;
  out.ip_bytes = std::uint32_t(total);
  std::memcpy(out.src, p + 8, 16);
  std::memcpy(out.dst, p + 24, 16);
  std::uint8_t nh = p[6];
  std::size_t off = 40;
  std::uint32_t frag_offset = 0, frag_id = 0;
  bool more = false;
  const std::size_t limit = f.cap < total ? f.cap : total;
  if (!walk_ipv6_headers(p, limit, total, nh, off, &frag_offset, &more, &frag_id, out.dst,
                         ctx.why)) {
    return false;
  }
  out.protocol = nh;
  if (frag_offset == 0 && off > limit) return ctx.fail(DropReason::kTruncatedTransport);
  if (frag_offset != 0) {
    out.kind = PacketInfo::Kind::kFragment;
    out.fragment_id = frag_id;
    out.payload_bytes = std::uint32_t(total - off);
    return emit(ctx);
  }
  if (more) {
    out.first_fragment = true;
    out.fragment_id = frag_id;
  }
  const bool verify = ctx.options.verify_checksums && !more;
  return decode_transport(ctx, p + off, limit - off, total - off, true, verify);
}

// The VLAN tags from `off` (walk_vlan_tags); a tag cut short drops the record
// (truncated-link).
bool skip_vlan_tags(DecodeContext& ctx, const std::uint8_t* p, std::size_t cap, std::size_t& off,
                    std::uint16_t& ethertype, bool qinq_old) {
  return walk_vlan_tags(p, cap, off, ethertype, ctx.vlan, qinq_old) ||
         ctx.fail(DropReason::kTruncatedLink);
}

// The link-layer header of the record: its ethertype and where the packet starts.
bool decode_link(DecodeContext& ctx, const RawPacket& raw, std::uint16_t& ethertype,
                 std::size_t& off) {
  const std::uint8_t* p = raw.data;
  const std::size_t cap = raw.caplen;
  switch (raw.linktype) {
    case kLinkEthernet:  // Ethernet, with any number (up to 4) of 802.1Q/802.1ad tags
      if (cap < 14) return ctx.fail(DropReason::kTruncatedLink);
      off = 14;
      ethertype = be16(p + 12);
      return skip_vlan_tags(ctx, p, cap, off, ethertype, true);
    case kLinkNull:    // BSD null: address family in the capturing host's byte order
    case kLinkLoop: {  // OpenBSD loop: in network byte order
      if (cap < 4) return ctx.fail(DropReason::kTruncatedLink);
      std::uint32_t family = be32(p);
      if (raw.linktype == kLinkNull && family > 0xffff) family = __builtin_bswap32(family);
      off = 4;
      if (family == 2) {
        ethertype = kEtherIpv4;
      } else if (family == 10 || family == 24 || family == 28 || family == 30) {
        ethertype = kEtherIpv6;  // AF_INET6 on Linux, NetBSD/OpenBSD, FreeBSD, macOS
      }
      return true;
    }
    case kLinkRawBsd:
    case kLinkRawOpenBsd:
    case kLinkRaw:
    case kLinkIpv4:
    case kLinkIpv6:  // raw IP: the version nibble decides
      if (cap < 1) return ctx.fail(DropReason::kTruncatedLink);
      ethertype = (p[0] >> 4) == 6 ? kEtherIpv6 : kEtherIpv4;
      return true;
    case kLinkLinuxSll:  // Linux cooked (SLL): protocol at offset 14
      if (cap < 16) return ctx.fail(DropReason::kTruncatedLink);
      off = 16;
      ethertype = be16(p + 14);
      return skip_vlan_tags(ctx, p, cap, off, ethertype, false);
    case kLinkLinuxSll2:  // Linux cooked v2 (SLL2): protocol at offset 0
      if (cap < 20) return ctx.fail(DropReason::kTruncatedLink);
      off = 20;
      ethertype = be16(p);
      return skip_vlan_tags(ctx, p, cap, off, ethertype, false);
    default: return ctx.fail(DropReason::kUnsupportedLink);
  }
}

}  // namespace

void begin_packet(DecodeContext& ctx) {
  PacketInfo& out = ctx.slot();
  out.ts_ns = ctx.ts_ns;
  out.kind = PacketInfo::Kind::kNormal;
  out.tcp_flags = 0;
  out.first_fragment = false;
  out.sctp_init = false;
  out.icmp_id = 0;
  out.window = 0;
  out.seq = out.ack = 0;
  out.vlan = ctx.vlan;
  out.tunnel = ctx.tunnel.kind;
  if (ctx.tunnels && ctx.tunnel.kind != TunnelKind::kNone) ctx.tunnels[ctx.count] = ctx.tunnel;
  out.inner = ctx.count > 0;
}

bool decode_ip(DecodeContext& ctx, Frame f) {
  if (f.cap < 1) return ctx.fail(DropReason::kTruncatedIp);
  if ((f.p[0] >> 4) == 4) return decode_ipv4(ctx, f);
  if ((f.p[0] >> 4) == 6) return decode_ipv6(ctx, f);
  return ctx.fail(DropReason::kBadIpHeader);
}

bool decode_ethertype(DecodeContext& ctx, std::uint16_t type, Frame f) {
  if (type == kEtherIpv4) return decode_ipv4(ctx, f);
  if (type == kEtherIpv6) return decode_ipv6(ctx, f);
  if (!ctx.options.open_tunnels) return ctx.fail(DropReason::kNotIp);
  switch (type) {
    case kEtherMpls:
    case kEtherMplsMulti: return decode_mpls(ctx, f);
    case kEtherPppoe: return decode_pppoe(ctx, f);
    case kEtherNsh: return decode_nsh(ctx, f);
    case kEtherCiscoMeta:  // Cisco metadata (SGT): version, length, options, SGT, then a type
      if (f.cap < 8) return ctx.fail(DropReason::kTruncatedTunnel);
      if (!ctx.enter_layer()) return false;
      return decode_ethertype(ctx, be16(f.p + 6), f.from(8));
    default: return ctx.fail(DropReason::kNotIp);
  }
}

bool decode_ethernet(DecodeContext& ctx, Frame f) {
  if (f.cap < 14) return ctx.fail(DropReason::kTruncatedLink);
  ctx.vlan = 0;  // the inner frame's own tags
  std::size_t off = 14;
  std::uint16_t type = be16(f.p + 12);
  if (!skip_vlan_tags(ctx, f.p, f.cap, off, type, true)) return false;
  return decode_ethertype(ctx, type, f.from(off));
}

}  // namespace sockscope::capture_detail

namespace sockscope {

DecodeResult decode_record(const RawPacket& raw, PacketInfo* out, const DecodeOptions& options,
                           Tunnel* tunnels) {
  capture_detail::DecodeContext ctx{options, out, tunnels};
  ctx.ts_ns = raw.ts_ns;
  ctx.why = DropReason::kNotIp;
  std::uint16_t ethertype = 0;
  std::size_t off = 0;
  if (capture_detail::decode_link(ctx, raw, ethertype, off)) {
    const std::size_t wire = raw.wire_len > raw.caplen ? raw.wire_len : raw.caplen;
    const capture_detail::Frame f{raw.data + off, raw.caplen - off, wire > off ? wire - off : 0};
    capture_detail::decode_ethertype(ctx, ethertype, f);
  }
  DecodeResult r;
  r.count = ctx.count;
  r.tunnels = ctx.kinds_opened;
  r.why = ctx.why;
  if (ctx.count > 0 && ctx.inner_dropped) {
    r.inner_dropped = true;
    r.why = ctx.inner_why;
  }
  return r;
}

bool decode_packet(const RawPacket& raw, PacketInfo& out, DropReason& why) {
  const DecodeResult r = decode_record(raw, &out, DecodeOptions{.open_tunnels = false});
  why = r.why;
  return r.count == 1;
}

}  // namespace sockscope
