#include "sockscope/community_id.hpp"

#include <algorithm>
#include <cstring>
#include <span>
#include <utility>

#include "core/community_id_text.hpp"

namespace sockscope {

// Tables from the Community ID specification (the same pairs as Zeek's
// ICMP4_counterpart and ICMP6_counterpart).
bool icmp_counterpart(std::uint8_t protocol, std::uint16_t type, std::uint16_t* out) {
  struct Pair {
    std::uint8_t a, b;
  };
  static constexpr Pair kV4[] = {{8, 0}, {13, 14}, {15, 16}, {10, 9}, {17, 18}};
  static constexpr Pair kV6[] = {{128, 129}, {133, 134}, {135, 136},
                                 {130, 131}, {139, 140}, {144, 145}};
  auto find = [&](const auto& table) {
    for (const Pair& p : table) {
      if (type == p.a) {
        *out = p.b;
        return true;
      }
      if (type == p.b) {
        *out = p.a;
        return true;
      }
    }
    return false;
  };
  return protocol == 58 ? find(kV6) : find(kV4);
}

namespace {

// An address's 4 or 16 bytes, each a constant-size copy (no library call).
std::uint8_t* put_address(std::uint8_t* p, std::span<const std::uint8_t> bytes) {
  if (bytes.size() == 4) {
    std::memcpy(p, bytes.data(), 4);
    return p + 4;
  }
  std::memcpy(p, bytes.data(), 16);
  return p + 16;
}

}  // namespace

namespace detail {

void community_id_to(char* out, const IpAddress& src, const IpAddress& dst, std::uint8_t protocol,
                     std::uint16_t src_port, std::uint16_t dst_port, bool has_ports,
                     std::uint16_t seed, Sha1Function hash) {
  std::span<const std::uint8_t> a = src.bytes(), b = dst.bytes();
  std::uint16_t pa = src_port, pb = dst_port;
  bool one_way = false;
  if (has_ports && (protocol == 1 || protocol == 58)) {
    std::uint16_t mapped;
    if (icmp_counterpart(protocol, src_port, &mapped)) {
      pb = mapped;
    } else {
      one_way = true;
    }
  }
  const int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  if (!one_way && (c > 0 || (c == 0 && pa > pb))) {
    std::swap(a, b);
    std::swap(pa, pb);
  }
  std::uint8_t buf[2 + 16 + 16 + 2 + 4];
  std::uint8_t* p = buf;
  *p++ = std::uint8_t(seed >> 8);
  *p++ = std::uint8_t(seed);
  p = put_address(p, a);
  p = put_address(p, b);
  *p++ = protocol;
  *p++ = 0;
  if (has_ports) {
    *p++ = std::uint8_t(pa >> 8);
    *p++ = std::uint8_t(pa);
    *p++ = std::uint8_t(pb >> 8);
    *p++ = std::uint8_t(pb);
  }
  const Sha1Digest digest = hash(buf, std::size_t(p - buf));
  out[0] = '1';
  out[1] = ':';
  base64_to(digest.data(), digest.size(), out + 2);
}

}  // namespace detail

std::string community_id(const IpAddress& src, const IpAddress& dst, std::uint8_t protocol,
                         std::uint16_t src_port, std::uint16_t dst_port, bool has_ports,
                         std::uint16_t seed) {
  // Built on the stack, then one allocation for the result (30 characters do not
  // fit the small-string buffer).
  char text[detail::kCommunityIdSize];
  detail::community_id_to(text, src, dst, protocol, src_port, dst_port, has_ports, seed);
  return std::string(text, sizeof text);
}

std::string community_id(const SocketPair& pair, std::uint16_t seed) {
  const Family family = pair.first.address.family();
  const std::uint8_t protocol = ip_protocol(pair.transport, family);
  const bool has_ports = pair.transport != Transport::kDccp;
  // Addresses without zone: the hash covers address bytes only.
  return community_id(pair.first.address, pair.second.address, protocol, pair.first.port,
                      pair.second.port, has_ports, seed);
}

}  // namespace sockscope
