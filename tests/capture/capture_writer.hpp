// A capture writer for tests, the benchmark generator and the shipped sample: builds
// IPv4/IPv6 packets (options, extension headers, fragments), TCP/UDP/SCTP/ICMP with
// correct checksums (TCP, UDP and ICMPv6 over the routing header's final destination), frames
// them for a link type (Ethernet with VLAN tags, SLL, SLL2, null, loop, raw) and writes
// classic pcap (us/ns, either byte order) or pcapng (either byte order, several
// interfaces, simple packet blocks, blocks a reader must skip).
//
//   CaptureWriter w(CaptureWriter::kPcapNg);
//   Packet p{.src = v4("10.0.0.1"), .dst = v4("10.0.0.2"), .protocol = 6,
//            .sport = 40000, .dport = 80, .flags = kSyn};
//   w.packet(1'000'000'000, frame(1, build_ip(p)));
//   w.write("/tmp/x.pcapng");
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "sockscope/ip_address.hpp"

namespace sockscope::testing {

using Bytes = std::vector<std::uint8_t>;

inline constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;

IpAddress v4(const char* text);
IpAddress v6(const char* text);

struct Packet {
  IpAddress src, dst;
  // 6 tcp, 17 udp, 132 sctp, 33 dccp, 1 icmp, 58 icmpv6; any other: `data` is the payload
  // (47 GRE, 4 and 41 IP in IP: tunnel_builder.hpp builds it)
  std::uint8_t protocol = 6;
  std::uint16_t sport = 0, dport = 0;
  std::uint8_t flags = kAck;
  std::uint32_t seq = 0, ack = 0;
  std::uint16_t window = 65535;
  std::uint32_t payload = 0;      // payload bytes (a byte pattern)
  Bytes data;                     // payload bytes as given, after `payload`'s (tunnels)
  std::uint32_t tcp_options = 0;  // bytes of TCP options (NOPs), multiple of 4
  std::uint8_t icmp_type = 8, icmp_code = 0;
  std::uint16_t icmp_id = 0;
  Bytes icmp_quote;                    // ICMP errors: the quoted packet (after the 8-byte header)
  std::uint8_t sctp_chunk = 0;         // first chunk type (1 = INIT, 0 = DATA)
  std::uint8_t ipv4_options = 0;       // bytes of IPv4 options (NOPs), multiple of 4
  std::vector<std::uint8_t> ipv6_ext;  // extension headers in order: 0, 43, 60
  // The routing header (43): its type (0, 2 or 4 = segment routing), segments left and
  // addresses (type 4: the segment list as stored, segments[0] = the last segment).
  std::uint8_t routing_type = 0, segments_left = 0;
  std::vector<IpAddress> route;
  std::uint16_t ip_id = 0;
};

// Big-endian appends, for headers built by hand.
void put16be(Bytes& b, std::uint16_t v);
void put32be(Bytes& b, std::uint32_t v);

// The IP packet: header(s), transport header, payload.
Bytes build_ip(const Packet& p);

// Splits an IP packet into fragments carrying at most `chunk` bytes (a multiple of 8)
// of the original IP payload each; IPv6 gets a fragment header with this id.
std::vector<Bytes> fragment(const Bytes& ip_packet, std::size_t chunk, std::uint32_t id = 77);

// Frames an IP packet for a link type: 1 Ethernet (with VLAN ids, outer first; tpid
// 0x88a8 for the outer tag of two), 0 null (little-endian AF), 108 loop, 101/12/14/228/229
// raw, 113 SLL, 276 SLL2.
Bytes frame(std::uint32_t linktype, const Bytes& ip, const std::vector<std::uint16_t>& vlans = {});

class CaptureWriter {
 public:
  enum Format { kPcapMicro, kPcapNano, kPcapNg };
  explicit CaptureWriter(Format format, std::uint32_t linktype = 1, bool big_endian = false,
                         std::uint32_t snaplen = 262144);
  // pcapng: declares another interface; returns its id. `tsresol` as in if_tsresol.
  std::uint32_t add_interface(std::uint32_t linktype, std::uint8_t tsresol = 6);
  // A packet record, cut to the snaplen (the wire length stays the frame's).
  void packet(std::uint64_t ts_ns, const Bytes& frame, std::uint32_t interface = 0);
  void simple_packet(const Bytes& frame);  // pcapng SPB
  void skippable_block();                  // pcapng: a name-resolution block
  const std::string& bytes() const { return out_; }
  // Flips bits of the byte `from_end` bytes before the end of what is buffered (tests
  // corrupt the last record with it).
  void flip_bits(std::size_t from_end, std::uint8_t mask) {
    out_[out_.size() - from_end] ^= char(mask);
  }
  // Writes bytes() to `path`; false on failure.
  bool write(const std::string& path) const;
  // Appends what is buffered to `file` and empties the buffer (streaming big files).
  bool flush_to(std::FILE* file);

 private:
  void put16(std::uint16_t v);
  void put32(std::uint32_t v);
  void pad4();
  Format format_;
  bool big_;
  std::uint32_t snaplen_;
  std::vector<std::uint8_t> tsresol_;
  std::string out_;
};

}  // namespace sockscope::testing
