// The wire layout of sockscope's IPFIX records: the templates (one per address
// family, tagged or not, uniflow or biflow) and the byte order helpers.
// Standard library only.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "sockscope/ipfix.hpp"

namespace sockscope::ipfix {

inline constexpr std::size_t kMessageHeader = 16, kSetHeader = 4, kMaxMessage = 65535;
// UDP messages are never larger than a 9000-byte jumbo frame's payload, whatever the
// path MTU (loopback's is 65536): collectors read datagrams into buffers of about
// 10 kB (pmacct's nfacctd cuts longer ones short).
inline constexpr std::size_t kMaxUdpMessage = 9000 - 28;
inline constexpr std::uint16_t kVersion = 10, kTemplateSetId = 2, kFirstTemplateId = 256;
inline constexpr std::uint32_t kReversePen = 29305;  // RFC 5103's reverse elements
inline constexpr std::uint16_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;

// Information elements sent (RFC 7012 / IANA numbers).
enum Ie : std::uint16_t {
  kOctetDeltaCount = 1,
  kPacketDeltaCount = 2,
  kProtocolIdentifier = 4,
  kTcpControlBits = 6,
  kSourceTransportPort = 7,
  kSourceIpv4Address = 8,
  kDestinationTransportPort = 11,
  kDestinationIpv4Address = 12,
  kSourceIpv6Address = 27,
  kDestinationIpv6Address = 28,
  kVlanId = 58,
  kFlowEndReason = 136,
  kFlowStartMilliseconds = 152,
  kFlowEndMilliseconds = 153,
};

// Big-endian stores, one store each (byte by byte, GCC kept the separate stores).
template <class T>
inline void put_be(std::uint8_t* p, T v) {
  if constexpr (std::endian::native == std::endian::little) v = std::byteswap(v);
  std::memcpy(p, &v, sizeof v);
}
inline void put16(std::uint8_t* p, std::uint16_t v) { put_be(p, v); }
inline void put32(std::uint8_t* p, std::uint32_t v) { put_be(p, v); }
inline void put64(std::uint8_t* p, std::uint64_t v) { put_be(p, v); }

inline void put_header(std::uint8_t* p, std::uint16_t length, std::uint32_t export_time,
                       std::uint32_t sequence, std::uint32_t domain) {
  put16(p, kVersion);
  put16(p + 2, length);
  put32(p + 4, export_time);
  put32(p + 8, sequence);
  put32(p + 12, domain);
}

struct TemplateKey {
  bool v6 = false, vlan = false, biflow = false;
  std::uint16_t id() const {
    return std::uint16_t(kFirstTemplateId + (v6 ? 1 : 0) + (vlan ? 2 : 0) + (biflow ? 4 : 0));
  }
};

inline TemplateKey template_of(const FlowRecord& r, bool biflow) {
  return {r.pair.first.address.is_v6(), r.vlan != 0, biflow};
}

// A template's fields in order: element, length, enterprise (0: IANA).
struct Field {
  std::uint16_t ie, length;
  std::uint32_t enterprise;
};
inline std::size_t fields_of(TemplateKey k, Field out[16]) {
  const std::uint16_t a = k.v6 ? 16 : 4;
  std::size_t n = 0;
  for (const Field f : {Field{kFlowStartMilliseconds, 8, 0}, Field{kFlowEndMilliseconds, 8, 0},
                        Field{k.v6 ? kSourceIpv6Address : kSourceIpv4Address, a, 0},
                        Field{k.v6 ? kDestinationIpv6Address : kDestinationIpv4Address, a, 0},
                        Field{kSourceTransportPort, 2, 0}, Field{kDestinationTransportPort, 2, 0},
                        Field{kProtocolIdentifier, 1, 0}, Field{kTcpControlBits, 2, 0},
                        Field{kOctetDeltaCount, 8, 0}, Field{kPacketDeltaCount, 8, 0},
                        Field{kFlowEndReason, 1, 0}}) {
    out[n++] = f;
  }
  if (k.vlan) out[n++] = {kVlanId, 2, 0};
  if (k.biflow) {
    out[n++] = {kOctetDeltaCount, 8, kReversePen};
    out[n++] = {kPacketDeltaCount, 8, kReversePen};
    out[n++] = {kTcpControlBits, 2, kReversePen};
  }
  return n;
}

inline std::size_t record_size(TemplateKey k) {
  return 8 + 8 + (k.v6 ? 32 : 8) + 2 + 2 + 1 + 2 + 8 + 8 + 1 + (k.vlan ? 2 : 0) +
         (k.biflow ? 18 : 0);
}

inline std::array<TemplateKey, 4> templates(bool biflow) {
  return {TemplateKey{false, false, biflow}, TemplateKey{true, false, biflow},
          TemplateKey{false, true, biflow}, TemplateKey{true, true, biflow}};
}

inline void append_template(std::vector<std::uint8_t>& m, TemplateKey k) {
  Field fields[16];
  const std::size_t n = fields_of(k, fields);
  std::size_t at = m.size();
  m.resize(at + 4);
  put16(m.data() + at, k.id());
  put16(m.data() + at + 2, std::uint16_t(n));
  for (std::size_t i = 0; i < n; ++i) {
    at = m.size();
    m.resize(at + (fields[i].enterprise ? 8 : 4));
    put16(m.data() + at, std::uint16_t(fields[i].ie | (fields[i].enterprise ? 0x8000 : 0)));
    put16(m.data() + at + 2, fields[i].length);
    if (fields[i].enterprise) put32(m.data() + at + 4, fields[i].enterprise);
  }
}

// The records of one flow into `out`: the client's direction, then the server's
// (each only when it sent packets), or one biflow with the server's as reverse.
inline std::size_t client_first(FlowRecord client, const FlowRecord& server, bool biflow,
                                FlowRecord out[2]) {
  if (biflow) {
    client.reverse_octets = server.octets;
    client.reverse_packets = server.packets;
    client.reverse_tcp_flags = server.tcp_flags;
    out[0] = client;
    return 1;
  }
  std::size_t n = 0;
  if (client.packets) out[n++] = client;
  if (server.packets) out[n++] = server;
  return n;
}

// Writes `r` in template `k`'s order; record_size(k) bytes.
inline void put_record(std::uint8_t* p, TemplateKey k, const FlowRecord& r) {
  put64(p, r.start_ms);
  put64(p + 8, r.end_ms);
  p += 16;
  const std::size_t a = k.v6 ? 16 : 4;
  std::memcpy(p, r.pair.first.address.bytes().data(), a);
  std::memcpy(p + a, r.pair.second.address.bytes().data(), a);
  p += 2 * a;
  put16(p, r.pair.first.port);
  put16(p + 2, r.pair.second.port);
  p[4] = ip_protocol(r.pair.transport, k.v6 ? Family::kV6 : Family::kV4);
  put16(p + 5, r.tcp_flags);
  put64(p + 7, r.octets);
  put64(p + 15, r.packets);
  p[23] = std::uint8_t(r.end_reason);
  p += 24;
  if (k.vlan) {
    put16(p, r.vlan);
    p += 2;
  }
  if (k.biflow) {
    put64(p, r.reverse_octets);
    put64(p + 8, r.reverse_packets);
    put16(p + 16, r.reverse_tcp_flags);
  }
}

}  // namespace sockscope::ipfix
