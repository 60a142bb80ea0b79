#include "capture/tunnel_builder.hpp"

namespace sockscope::testing {
namespace {

Bytes then(Bytes head, const Bytes& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

}  // namespace

Bytes ethernet(std::uint16_t type, const Bytes& payload, const std::vector<std::uint16_t>& vlans) {
  Bytes f = {0x02, 0, 0, 0, 0, 0x0a, 0x02, 0, 0, 0, 0, 0x0b};
  for (std::size_t i = 0; i < vlans.size(); ++i) {
    put16be(f, vlans.size() > 1 && i == 0 ? 0x88a8 : 0x8100);
    put16be(f, vlans[i]);
  }
  put16be(f, type);
  return then(f, payload);
}

Bytes vxlan(std::uint32_t vni, const Bytes& inner_frame) {
  Bytes h = {0x08, 0, 0, 0};  // I flag: the VNI is valid
  put32be(h, vni << 8);
  return then(h, inner_frame);
}

Bytes vxlan_gpe(std::uint8_t next, const Bytes& inner) {
  Bytes h = {0x0c, 0, 0, next, 0, 0, 0x2a, 0};  // I and P flags, VNI 42
  return then(h, inner);
}

Bytes geneve(std::uint16_t protocol, std::size_t option_words, const Bytes& inner) {
  Bytes h = {std::uint8_t(option_words & 0x3f), 0};
  put16be(h, protocol);
  put32be(h, 0x00123400);                              // VNI 0x1234
  for (std::size_t i = 0; i < option_words; i += 2) {  // options of 8 bytes: class, type, len
    put16be(h, 0x0102);
    h.push_back(0x80);
    h.push_back(std::uint8_t(option_words - i >= 2 ? 1 : 0));
    if (option_words - i >= 2) put32be(h, 0xdeadbeef);
  }
  return then(h, inner);
}

Bytes teredo(const Bytes& inner_ipv6, bool origin_indication, bool authentication) {
  Bytes h;
  if (authentication) {  // no client id, no authentication value: nonce and confirmation
    h = {0, 1, 0, 0};
    for (int i = 0; i < 8; ++i) h.push_back(std::uint8_t(0x11 * i));
    h.push_back(0);
  }
  if (origin_indication) {
    const Bytes origin = {0, 0, 0x3f, 0xff, 0xc0, 0x00, 0x02, 0x01};  // obfuscated port, addr
    h.insert(h.end(), origin.begin(), origin.end());
  }
  return then(h, inner_ipv6);
}

Bytes gtp_u(std::uint32_t teid, const Bytes& inner_ip, bool extension_header) {
  Bytes ext;
  if (extension_header) {  // PDU session container (type 0x85): 4 bytes, then none
    ext = {0, 0, 0, 0x85, 1, 0x10, 0x09, 0};
  }
  Bytes h = {std::uint8_t(extension_header ? 0x34 : 0x30), 0xff};
  put16be(h, std::uint16_t(ext.size() + inner_ip.size()));
  put32be(h, teid);
  return then(then(h, ext), inner_ip);
}

Bytes mpls(const std::vector<std::uint32_t>& labels, const Bytes& inner) {
  Bytes h;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const bool bottom = i + 1 == labels.size();
    put32be(h, labels[i] << 12 | (bottom ? 0x100u : 0u) | 64u);
  }
  return then(h, inner);
}

Bytes gre(std::uint16_t protocol, const Bytes& inner, const GreOptions& o) {
  Bytes h;
  put16be(h, std::uint16_t((o.checksum ? 0x8000 : 0) | (o.key ? 0x2000 : 0) |
                           (o.sequence ? 0x1000 : 0)));
  put16be(h, protocol);
  if (o.checksum) put32be(h, 0);
  if (o.key) put32be(h, *o.key);
  if (o.sequence) put32be(h, *o.sequence);
  Bytes g = then(h, inner);
  if (o.checksum) {  // over the GRE header and payload
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < g.size(); i += 2) {
      sum += std::uint32_t(g[i] << 8 | (i + 1 < g.size() ? g[i + 1] : 0));
    }
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    g[4] = std::uint8_t(~sum >> 8);
    g[5] = std::uint8_t(~sum);
  }
  return g;
}

Bytes erspan_ii(std::uint16_t session, const Bytes& frame) {
  Bytes h;
  put16be(h, 0x1000 | 0);  // version 1, VLAN 0
  put16be(h, session & 0x3ff);
  put32be(h, 7);  // index
  return then(h, frame);
}

Bytes erspan_iii(std::uint16_t session, const Bytes& frame, bool subheader) {
  Bytes h;
  put16be(h, 0x2000);  // version 2, VLAN 0
  put16be(h, session & 0x3ff);
  put32be(h, 0x01020304);  // timestamp
  put16be(h, 0);           // SGT
  h.push_back(0);          // P 0, frame type 0 (Ethernet), hardware id
  h.push_back(subheader ? 0x01 : 0x00);
  if (subheader) {  // platform-specific subheader: 8 bytes
    put32be(h, 0);
    put32be(h, 0);
  }
  return then(h, frame);
}

Bytes pppoe_session(std::uint16_t session, const Bytes& inner_ip) {
  Bytes h = {0x11, 0x00};
  put16be(h, session);
  put16be(h, std::uint16_t(inner_ip.size() + 2));
  put16be(h, (inner_ip[0] >> 4) == 6 ? 0x0057 : 0x0021);
  return then(h, inner_ip);
}

Bytes pim_register(const Bytes& inner_ip) {
  Bytes h = {0x21, 0, 0, 0, 0, 0, 0, 0};  // version 2, type 1; checksum; flags B and N clear
  std::uint32_t sum = 0x2100;             // the checksum covers the 8-byte header only
  sum = ~((sum & 0xffff) + (sum >> 16)) & 0xffff;
  h[2] = std::uint8_t(sum >> 8);
  h[3] = std::uint8_t(sum);
  return then(h, inner_ip);
}

Bytes nsh(std::uint8_t next, const Bytes& inner) {
  // Version 0, TTL 63, length 6 words (MD type 1: 4 context words), next protocol.
  Bytes h = {0x0f, 0xc6, 0x01, next};
  put32be(h, 0x00002aff);  // service path 42, index 255
  for (int i = 0; i < 4; ++i) put32be(h, 0);
  return then(h, inner);
}

Bytes carrier(const char* src, const char* dst, std::uint8_t protocol, const Bytes& data,
              std::uint16_t sport, std::uint16_t dport) {
  Packet p{.src = *IpAddress::parse(src), .dst = *IpAddress::parse(dst), .protocol = protocol};
  p.sport = sport;
  p.dport = dport;
  p.data = data;
  return build_ip(p);
}

}  // namespace sockscope::testing
