// IPv6 extension headers, quoted packets of ICMP errors, transport checksums. Every
// read is checked against the captured length first.
#include "capture/ip_headers.hpp"

#include <algorithm>
#include <cstring>

#include "capture/wire.hpp"

namespace sockscope::capture_detail {
namespace {

bool drop(DropReason& why, DropReason reason) {
  why = reason;
  return false;
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

}  // namespace

bool is_icmp_error(bool v6, std::uint8_t type) {
  if (v6) return type >= 1 && type <= 4;
  return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

bool icmp_has_id(bool v6, std::uint8_t type) {
  if (v6) return type == 128 || type == 129;
  return type == 0 || type == 8 || (type >= 13 && type <= 18);
}

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
  if (len < 8) return true;                    // too short for any header: the decoder drops it
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

}  // namespace sockscope::capture_detail
