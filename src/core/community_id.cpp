#include "sockscope/community_id.hpp"

#include <cstring>

#include "core/sha1.hpp"

namespace sockscope {
namespace {

// ICMP types with a "reply" counterpart: a request and its reply share one
// flow. Tables from the Community ID specification.
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

}  // namespace

std::string community_id(const IpAddress& src, const IpAddress& dst, std::uint8_t protocol,
                         std::uint16_t src_port, std::uint16_t dst_port, bool has_ports,
                         std::uint16_t seed) {
  IpAddress a = src, b = dst;
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
  auto ab = a.bytes(), bb = b.bytes();
  int c = std::memcmp(ab.data(), bb.data(), std::min(ab.size(), bb.size()));
  bool swap = !one_way && (c > 0 || (c == 0 && pa > pb));
  if (swap) {
    std::swap(a, b);
    std::swap(pa, pb);
  }
  std::uint8_t buf[2 + 16 + 16 + 2 + 4];
  std::size_t n = 0;
  buf[n++] = std::uint8_t(seed >> 8);
  buf[n++] = std::uint8_t(seed);
  for (std::uint8_t byte : a.bytes()) buf[n++] = byte;
  for (std::uint8_t byte : b.bytes()) buf[n++] = byte;
  buf[n++] = protocol;
  buf[n++] = 0;
  if (has_ports) {
    buf[n++] = std::uint8_t(pa >> 8);
    buf[n++] = std::uint8_t(pa);
    buf[n++] = std::uint8_t(pb >> 8);
    buf[n++] = std::uint8_t(pb);
  }
  auto digest = detail::sha1(buf, n);
  return "1:" + detail::base64(digest.data(), digest.size());
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
