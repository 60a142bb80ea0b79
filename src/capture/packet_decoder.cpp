// Link layer, IP and transport decoding of one captured record into a PacketInfo.
// Every read is checked against the captured length first; lengths taken from
// headers (IP total length, IPv6 payload length) size the byte counts, never reads.
#include <algorithm>
#include <cstring>

#include "capture/wire.hpp"
#include "sockscope/capture_reader.hpp"

namespace sockscope {
namespace {

using capture_detail::be16;
using capture_detail::be32;

constexpr std::uint16_t kEtherIpv4 = 0x0800;
constexpr std::uint16_t kEtherIpv6 = 0x86dd;

bool drop(DropReason& why, DropReason reason) {
  why = reason;
  return false;
}

bool is_icmp_error(bool v6, std::uint8_t type) {
  if (v6) return type >= 1 && type <= 4;
  return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

bool icmp_has_id(bool v6, std::uint8_t type) {
  if (v6) return type == 128 || type == 129;
  return type == 0 || type == 8 || (type >= 13 && type <= 18);
}

// The final destination a routing header names, as RFC 8200 (and Zeek's FinalDst,
// tshark and the transport checksum) take it: while segments are left, the last
// address of a type 0 header, the home address of a type 2 header, and segments[0]
// of a segment routing header (type 4, whose list is stored last segment first).
// `h` is the header with `len` bytes of it captured; false when it names none.
bool routing_final_destination(const std::uint8_t* h, std::size_t len, std::uint8_t* dst) {
  if (len < 8 || h[3] == 0) return false;  // no segments left: the header's dst is final
  const std::size_t addresses = std::size_t(h[1]) / 2;  // 16-byte addresses after 8 bytes
  std::size_t index;
  switch (h[2]) {
    case 0: index = addresses - 1; break;
    case 2: index = 0; break;
    case 4: index = 0; break;
    default: return false;
  }
  if (addresses == 0 || 8 + 16 * (index + 1) > len) return false;
  std::memcpy(dst, h + 8 + 16 * index, 16);
  return true;
}

// Walks IPv6 extension headers from `off`. On return `nh` is the upper-layer
// protocol and `off` its offset. Fragment headers set the fragment fields; a routing
// header with segments left replaces `dst` (16 bytes, when given) by the final one.
// Returns false with `why` when a header is cut short or runs past the payload.
bool walk_ipv6_headers(const std::uint8_t* p, std::size_t cap, std::size_t limit, std::uint8_t& nh,
                       std::size_t& off, std::uint32_t* frag_offset, bool* more_fragments,
                       std::uint32_t* frag_id, std::uint8_t* dst, DropReason& why) {
  for (int i = 0; i < 16; ++i) {
    std::size_t len;
    switch (nh) {
      case 0:    // hop-by-hop options
      case 43:   // routing
      case 60:   // destination options
      case 135:  // mobility
      case 139:  // HIP
      case 140:  // shim6
        if (off + 2 > cap) return drop(why, DropReason::kTruncatedIp);
        len = (std::size_t(p[off + 1]) + 1) * 8;
        if (nh == 43 && dst) {
          routing_final_destination(p + off, std::min(len, cap - off), dst);
        }
        break;
      case 51:  // authentication header
        if (off + 2 > cap) return drop(why, DropReason::kTruncatedIp);
        len = (std::size_t(p[off + 1]) + 2) * 4;
        break;
      case 44: {  // fragment
        if (off + 8 > cap) return drop(why, DropReason::kTruncatedIp);
        const std::uint16_t fo = be16(p + off + 2);
        if (frag_offset) {
          *frag_offset = fo & 0xfff8u;
          *more_fragments = fo & 1u;
          *frag_id = be32(p + off + 4);
        }
        len = 8;
        break;
      }
      default: return true;
    }
    nh = p[off];
    off += len;
    if (off > limit) return drop(why, DropReason::kBadIpHeader);
    if (frag_offset && nh != 44 && *frag_offset != 0) return true;  // later fragment: stop
  }
  return drop(why, DropReason::kBadIpHeader);  // an absurd chain of headers
}

// The quoted packet inside an ICMP error: its pair, when it has ports.
bool decode_quoted(const std::uint8_t* p, std::size_t cap, bool v6, PacketInfo& out) {
  std::uint8_t proto;
  std::size_t off;
  if (!v6) {
    if (cap < 20 || (p[0] >> 4) != 4) return false;
    off = std::size_t(p[0] & 15) * 4;
    if (off < 20 || (be16(p + 6) & 0x1fff) != 0) return false;
    proto = p[9];
    std::memcpy(out.quoted_src, p + 12, 4);
    std::memset(out.quoted_src + 4, 0, 12);
    std::memcpy(out.quoted_dst, p + 16, 4);
    std::memset(out.quoted_dst + 4, 0, 12);
  } else {
    if (cap < 40 || (p[0] >> 4) != 6) return false;
    proto = p[6];
    off = 40;
    DropReason ignored;
    std::uint32_t fo = 0, id = 0;
    bool mf = false;
    std::memcpy(out.quoted_src, p + 8, 16);
    std::memcpy(out.quoted_dst, p + 24, 16);
    if (!walk_ipv6_headers(p, cap, cap, proto, off, &fo, &mf, &id, out.quoted_dst, ignored) ||
        fo != 0) {
      return false;
    }
  }
  auto transport = transport_of_protocol(proto);
  if (!transport || *transport == Transport::kIcmp || off + 4 > cap) return false;
  out.quoted_transport = *transport;
  out.quoted_src_port = be16(p + off);
  out.quoted_dst_port = be16(p + off + 2);
  return true;
}

// Transport header at p (cap bytes captured, len bytes by the IP length fields).
// Inlined into both IP decoders (and IPv4 into decode_packet): the calls and their
// register saves were ~20 instructions of every packet's ~680 (cachegrind).
// True unless the transport checksum of a segment captured whole is wrong (TCP, UDP,
// ICMP, ICMPv6; the pseudo header has the final destination). UDP's checksum 0 means
// none over IPv4, and is accepted over IPv6 too (RFC 6935 allows it for tunnels).
bool transport_checksum_ok(const std::uint8_t* p, std::size_t cap, std::size_t len, bool v6,
                           const PacketInfo& out) {
  using capture_detail::fold;
  using capture_detail::ones_sum;
  if (cap < len || len > 0xffff) return true;  // not all captured: not checked, as in Zeek
  const std::size_t address = v6 ? 16 : 4;
  std::uint32_t pseudo = ones_sum(out.src, address);
  pseudo = ones_sum(out.dst, address, pseudo) + out.protocol + std::uint32_t(len);
  switch (out.protocol) {
    case 6: return fold(ones_sum(p, len, pseudo)) == 0xffff;
    case 17: return be16(p + 6) == 0 || fold(ones_sum(p, len, pseudo)) == 0xffff;
    case 1: return fold(ones_sum(p, len)) == 0xffff;
    case 58: return fold(ones_sum(p, len, pseudo)) == 0xffff;
    default: return true;
  }
}

[[gnu::always_inline]] inline bool decode_transport(const std::uint8_t* p, std::size_t cap,
                                                    std::size_t len, bool v6, bool verify,
                                                    PacketInfo& out, DropReason& why) {
  if (cap > len) cap = len;  // link-layer padding is not part of the packet
  out.bad_checksum = verify && !transport_checksum_ok(p, cap, len, v6, out);
  switch (out.protocol) {
    case 6: {
      out.transport = Transport::kTcp;
      if (cap < 20) return drop(why, DropReason::kTruncatedTransport);
      const std::size_t doff = std::size_t(p[12] >> 4) * 4;
      if (doff < 20 || doff > len) return drop(why, DropReason::kBadTransportHeader);
      out.src_port = be16(p);
      out.dst_port = be16(p + 2);
      out.seq = be32(p + 4);
      out.ack = be32(p + 8);
      out.tcp_flags = p[13];
      out.window = be16(p + 14);
      out.payload_bytes = std::uint32_t(len - doff);
      return true;
    }
    case 17:
      out.transport = Transport::kUdp;
      if (cap < 8) return drop(why, DropReason::kTruncatedTransport);
      if (len < 8) return drop(why, DropReason::kBadTransportHeader);
      out.src_port = be16(p);
      out.dst_port = be16(p + 2);
      out.payload_bytes = std::uint32_t(len - 8);
      return true;
    case 132:
      out.transport = Transport::kSctp;
      if (cap < 12) return drop(why, DropReason::kTruncatedTransport);
      if (len < 12) return drop(why, DropReason::kBadTransportHeader);
      out.src_port = be16(p);
      out.dst_port = be16(p + 2);
      out.sctp_init = cap > 12 && p[12] == 1;
      out.payload_bytes = std::uint32_t(len - 12);
      return true;
    case 33: {
      out.transport = Transport::kDccp;
      if (cap < 12) return drop(why, DropReason::kTruncatedTransport);
      const std::size_t doff = std::size_t(p[4]) * 4;
      if (doff < 12 || doff > len) return drop(why, DropReason::kBadTransportHeader);
      out.src_port = be16(p);
      out.dst_port = be16(p + 2);
      out.payload_bytes = std::uint32_t(len - doff);
      return true;
    }
    case 1:
    case 58: {
      if ((out.protocol == 58) != v6) return drop(why, DropReason::kOtherProtocol);
      out.transport = Transport::kIcmp;
      if (cap < 4) return drop(why, DropReason::kTruncatedTransport);
      if (len < 8) return drop(why, DropReason::kBadTransportHeader);
      const std::uint8_t type = p[0];
      out.src_port = type;
      out.dst_port = p[1];
      out.payload_bytes = std::uint32_t(len - 8);
      if (icmp_has_id(v6, type)) {
        if (cap < 6) return drop(why, DropReason::kTruncatedTransport);
        out.icmp_id = be16(p + 4);
      }
      if (is_icmp_error(v6, type) && cap > 8 && decode_quoted(p + 8, cap - 8, v6, out)) {
        out.kind = PacketInfo::Kind::kIcmpError;
      }
      return true;
    }
    default: return drop(why, DropReason::kOtherProtocol);
  }
}

[[gnu::always_inline]] inline bool decode_ipv4(const std::uint8_t* p, std::size_t cap,
                                               std::size_t wire, bool verify, PacketInfo& out,
                                               DropReason& why) {
  if (cap < 20) return drop(why, DropReason::kTruncatedIp);
  if ((p[0] >> 4) != 4) return drop(why, DropReason::kBadIpHeader);
  const std::size_t ihl = std::size_t(p[0] & 15) * 4;
  if (ihl < 20) return drop(why, DropReason::kBadIpHeader);
  if (cap < ihl) return drop(why, DropReason::kTruncatedIp);
  if (verify && capture_detail::fold(capture_detail::ones_sum(p, ihl)) != 0xffff) {
    return drop(why, DropReason::kBadIpChecksum);
  }
  std::size_t total = be16(p + 2);
  if (total == 0) total = wire;  // segmentation offload: the length is left to the NIC
  if (total < ihl) return drop(why, DropReason::kBadIpHeader);
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
    return true;
  }
  if (more) {
    out.first_fragment = true;
    out.fragment_id = be16(p + 4);
  }
  // A first fragment's checksum covers the whole datagram: not checked.
  return decode_transport(p + ihl, cap - ihl, total - ihl, false, verify && !more, out, why);
}

bool decode_ipv6(const std::uint8_t* p, std::size_t cap, std::size_t wire, bool verify,
                 PacketInfo& out, DropReason& why) {
  if (cap < 40) return drop(why, DropReason::kTruncatedIp);
  if ((p[0] >> 4) != 6) return drop(why, DropReason::kBadIpHeader);
  std::size_t total = 40 + std::size_t(be16(p + 4));
  if (total == 40 && wire > 40) total = wire;  // jumbogram or offload
  out.family = Family::kV6;
  out.ip_bytes = std::uint32_t(total);
  std::memcpy(out.src, p + 8, 16);
  std::memcpy(out.dst, p + 24, 16);
  std::uint8_t nh = p[6];
  std::size_t off = 40;
  std::uint32_t frag_offset = 0, frag_id = 0;
  bool more = false;
  const std::size_t limit = cap < total ? cap : total;
  if (!walk_ipv6_headers(p, limit, total, nh, off, &frag_offset, &more, &frag_id, out.dst, why)) {
    return false;
  }
  out.protocol = nh;
  if (frag_offset == 0 && off > limit) return drop(why, DropReason::kTruncatedTransport);
  if (frag_offset != 0) {
    out.kind = PacketInfo::Kind::kFragment;
    out.fragment_id = frag_id;
    out.payload_bytes = std::uint32_t(total - off);
    return true;
  }
  if (more) {
    out.first_fragment = true;
    out.fragment_id = frag_id;
  }
  return decode_transport(p + off, limit - off, total - off, true, verify && !more, out, why);
}

bool decode_one(const RawPacket& raw, PacketInfo& out, bool verify, DropReason& why);

}  // namespace

bool decode_packet(const RawPacket& raw, PacketInfo& out, DropReason& why) {
  return decode_one(raw, out, false, why);
}

DecodeResult decode_record(const RawPacket& raw, PacketInfo* out, const DecodeOptions& options) {
  DecodeResult r;
  r.count = decode_one(raw, out[0], options.verify_checksums, r.why) ? 1 : 0;
  return r;
}

namespace {

bool decode_one(const RawPacket& raw, PacketInfo& out, bool verify, DropReason& why) {
  const std::uint8_t* p = raw.data;
  const std::size_t cap = raw.caplen;
  std::size_t wire = raw.wire_len > raw.caplen ? raw.wire_len : raw.caplen;
  out.ts_ns = raw.ts_ns;
  out.kind = PacketInfo::Kind::kNormal;
  out.tcp_flags = 0;
  out.first_fragment = false;
  out.bad_checksum = false;
  out.sctp_init = false;
  out.icmp_id = 0;
  out.window = 0;
  out.seq = out.ack = 0;
  out.vlan = 0;
  std::size_t off = 0;
  std::uint16_t ethertype = 0;
  switch (raw.linktype) {
    case 1: {  // Ethernet, with any number (up to 4) of 802.1Q/802.1ad tags
      if (cap < 14) return drop(why, DropReason::kTruncatedLink);
      ethertype = be16(p + 12);
      off = 14;
      for (int tags = 0;
           tags < 4 && (ethertype == 0x8100 || ethertype == 0x88a8 || ethertype == 0x9100);
           ++tags) {
        if (cap < off + 4) return drop(why, DropReason::kTruncatedLink);
        out.vlan = ((out.vlan << 12) | (be16(p + off) & 0x0fffu)) & 0xffffffu;
        ethertype = be16(p + off + 2);
        off += 4;
      }
      break;
    }
    case 0:      // BSD null: address family in the capturing host's byte order
    case 108: {  // OpenBSD loop: in network byte order
      if (cap < 4) return drop(why, DropReason::kTruncatedLink);
      std::uint32_t family = be32(p);
      if (raw.linktype == 0 && family > 0xffff) family = __builtin_bswap32(family);
      off = 4;
      if (family == 2) {
        ethertype = kEtherIpv4;
      } else if (family == 10 || family == 24 || family == 28 || family == 30) {
        ethertype = kEtherIpv6;  // AF_INET6 on Linux, NetBSD/OpenBSD, FreeBSD, macOS
      }
      break;
    }
    case 12:
    case 14:
    case 101:
    case 228:
    case 229:  // raw IP: the version nibble decides
      if (cap < 1) return drop(why, DropReason::kTruncatedLink);
      ethertype = (p[0] >> 4) == 6 ? kEtherIpv6 : kEtherIpv4;
      break;
    case 113:  // Linux cooked (SLL): protocol at offset 14
      if (cap < 16) return drop(why, DropReason::kTruncatedLink);
      ethertype = be16(p + 14);
      off = 16;
      break;
    case 276:  // Linux cooked v2 (SLL2): protocol at offset 0
      if (cap < 20) return drop(why, DropReason::kTruncatedLink);
      ethertype = be16(p);
      off = 20;
      break;
    default: return drop(why, DropReason::kUnsupportedLink);
  }
  if (raw.linktype == 113 || raw.linktype == 276) {
    for (int tags = 0; tags < 4 && (ethertype == 0x8100 || ethertype == 0x88a8); ++tags) {
      if (cap < off + 4) return drop(why, DropReason::kTruncatedLink);
      out.vlan = ((out.vlan << 12) | (be16(p + off) & 0x0fffu)) & 0xffffffu;
      ethertype = be16(p + off + 2);
      off += 4;
    }
  }
  wire = wire > off ? wire - off : 0;
  if (ethertype == kEtherIpv4) return decode_ipv4(p + off, cap - off, wire, verify, out, why);
  if (ethertype == kEtherIpv6) return decode_ipv6(p + off, cap - off, wire, verify, out, why);
  return drop(why, DropReason::kNotIp);
}

}  // namespace
}  // namespace sockscope
