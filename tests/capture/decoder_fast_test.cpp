// The read loop's inline decoders (capture/packet_fast.hpp: the common shape, and VXLAN
// around it) against the general decoder: when they accept a record, the PacketInfos
// are the same, field for field; at their edges (one byte short, IHL 6, two tags,
// extension headers, fragments, offload lengths, nested tunnels) they hand the record
// on. Buffers are sized exactly, so the debug suite's AddressSanitizer catches a read
// past the capture.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "capture/capture_test_util.hpp"
#include "capture/packet_fast.hpp"
#include "capture/tunnel_builder.hpp"

namespace sockscope::testing {
namespace {

struct Both {
  bool fast_ok = false, general_ok = false;
  PacketInfo fast, general;
  DropReason why = DropReason::kNotIp;
};

// Decodes the first `caplen` bytes of `f` (wire length: the whole frame) both ways.
Both decode_both(std::uint32_t link, const Bytes& f, std::size_t caplen) {
  std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[caplen ? caplen : 1]);
  if (caplen) std::memcpy(copy.get(), f.data(), caplen);
  const RawPacket raw{.ts_ns = 1'700'000'000'123'456'789ull,
                      .caplen = std::uint32_t(caplen),
                      .wire_len = std::uint32_t(f.size()),
                      .linktype = link,
                      .data = copy.get()};
  Both b;
  b.fast_ok = capture_detail::decode_common(raw, b.fast);
  b.general_ok = decode_packet(raw, b.general, b.why);
  return b;
}

Both decode_both(const Bytes& f) { return decode_both(1, f, f.size()); }

Packet tcp4() {
  return Packet{.src = v4("10.0.0.1"),
                .dst = v4("10.0.0.2"),
                .protocol = 6,
                .sport = 40000,
                .dport = 80,
                .flags = kSyn | kAck,
                .seq = 1000,
                .ack = 2000,
                .window = 512,
                .payload = 10};
}

Packet udp6() {
  return Packet{.src = v6("2001:db8::1"),
                .dst = v6("2001:db8::2"),
                .protocol = 17,
                .sport = 5353,
                .dport = 53,
                .payload = 12};
}

// The common shapes: IPv4 and IPv6, TCP and UDP, untagged and with one 802.1Q tag.
std::vector<Bytes> common_frames() {
  Packet udp4 = udp6();
  udp4.src = v4("192.0.2.1");
  udp4.dst = v4("192.0.2.2");
  Packet tcp6 = tcp4();
  tcp6.src = v6("2001:db8::a");
  tcp6.dst = v6("2001:db8::b");
  tcp6.tcp_options = 12;
  std::vector<Bytes> out;
  for (const Packet& p : {tcp4(), udp4, tcp6, udp6()}) {
    out.push_back(frame(1, build_ip(p)));
    out.push_back(frame(1, build_ip(p), {42}));
  }
  return out;
}

TEST(DecoderFastTest, CommonShapesGiveTheGeneralResult) {
  for (const Bytes& f : common_frames()) {
    const Both b = decode_both(f);
    ASSERT_TRUE(b.fast_ok) << "frame of " << f.size() << " bytes";
    ASSERT_TRUE(b.general_ok) << to_string(b.why);
    EXPECT_TRUE(b.fast == b.general) << "frame of " << f.size() << " bytes";
  }
}

TEST(DecoderFastTest, TaggedTcpHandValues) {
  const Both b = decode_both(frame(1, build_ip(tcp4()), {42}));
  ASSERT_TRUE(b.fast_ok);
  const PacketInfo& p = b.fast;
  EXPECT_EQ(p.ts_ns, 1'700'000'000'123'456'789ull);
  EXPECT_EQ(p.kind, PacketInfo::Kind::kNormal);
  EXPECT_EQ(p.family, Family::kV4);
  EXPECT_EQ(p.transport, Transport::kTcp);
  EXPECT_EQ(p.protocol, 6);
  EXPECT_EQ(p.vlan, 42u);
  EXPECT_EQ(p.src_port, 40000);
  EXPECT_EQ(p.dst_port, 80);
  EXPECT_EQ(p.tcp_flags, kSyn | kAck);
  EXPECT_EQ(p.seq, 1000u);
  EXPECT_EQ(p.ack, 2000u);
  EXPECT_EQ(p.window, 512);
  EXPECT_EQ(p.ip_bytes, 20u + 20u + 10u);
  EXPECT_EQ(p.payload_bytes, 10u);
  EXPECT_FALSE(p.first_fragment);
  const std::uint8_t src[16] = {10, 0, 0, 1}, dst[16] = {10, 0, 0, 2};
  EXPECT_EQ(std::memcmp(p.src, src, 16), 0);
  EXPECT_EQ(std::memcmp(p.dst, dst, 16), 0);
}

TEST(DecoderFastTest, TaggedUdp6HandValues) {
  const Both b = decode_both(frame(1, build_ip(udp6()), {7}));
  ASSERT_TRUE(b.fast_ok);
  const PacketInfo& p = b.fast;
  EXPECT_EQ(p.family, Family::kV6);
  EXPECT_EQ(p.transport, Transport::kUdp);
  EXPECT_EQ(p.vlan, 7u);
  EXPECT_EQ(p.src_port, 5353);
  EXPECT_EQ(p.dst_port, 53);
  EXPECT_EQ(p.tcp_flags, 0);
  EXPECT_EQ(p.seq, 0u);
  EXPECT_EQ(p.window, 0);
  EXPECT_EQ(p.ip_bytes, 40u + 8u + 12u);
  EXPECT_EQ(p.payload_bytes, 12u);
  EXPECT_EQ(std::memcmp(p.src, v6("2001:db8::1").bytes().data(), 16), 0);
  EXPECT_EQ(std::memcmp(p.dst, v6("2001:db8::2").bytes().data(), 16), 0);
}

TEST(DecoderFastTest, CaptureEndsAtTheTransportHeaderEdge) {
  // Ethernet 14 + IPv4 20 + TCP 20: with 54 bytes the header is whole, with 53 it is not.
  const Bytes f = frame(1, build_ip(tcp4()));
  const Both whole = decode_both(1, f, 54);
  EXPECT_TRUE(whole.fast_ok);
  ASSERT_TRUE(whole.general_ok);
  EXPECT_TRUE(whole.fast == whole.general);
  EXPECT_EQ(whole.fast.payload_bytes, 10u);  // from the IP length, not the capture
  const Both cut = decode_both(1, f, 53);
  EXPECT_FALSE(cut.fast_ok);
  EXPECT_FALSE(cut.general_ok);
  EXPECT_EQ(cut.why, DropReason::kTruncatedTransport);
  // Tagged IPv6 + UDP: 18 + 40 + 8 = 66 bytes.
  const Bytes g = frame(1, build_ip(udp6()), {42});
  const Both whole6 = decode_both(1, g, 66);
  EXPECT_TRUE(whole6.fast_ok);
  EXPECT_TRUE(whole6.fast == whole6.general);
  const Both cut6 = decode_both(1, g, 65);
  EXPECT_FALSE(cut6.fast_ok);
  EXPECT_EQ(cut6.why, DropReason::kTruncatedTransport);
}

TEST(DecoderFastTest, OtherShapesGoToTheGeneralDecoder) {
  Packet options = tcp4();
  options.ipv4_options = 4;  // IHL 6
  Packet ext = udp6();
  ext.ipv6_ext = {0};  // hop-by-hop options
  Packet sctp = tcp4();
  sctp.protocol = 132;
  const Bytes tcp = build_ip(tcp4());
  Bytes zero_length = frame(1, tcp);
  zero_length[14 + 2] = zero_length[14 + 3] = 0;  // left to the NIC (offload)
  const Bytes udp = build_ip(udp6());
  Bytes jumbo = frame(1, udp);
  jumbo[14 + 4] = jumbo[14 + 5] = 0;  // IPv6 payload length 0: jumbogram or offload
  Bytes more_fragments = frame(1, tcp);
  more_fragments[14 + 6] = 0x20;
  struct Case {
    const char* what;
    std::uint32_t link;
    Bytes frame;
  };
  const Case cases[] = {
      {"IHL 6", 1, frame(1, build_ip(options))},
      {"two tags", 1, frame(1, tcp, {5, 6})},
      {"IPv6 extension header", 1, frame(1, build_ip(ext))},
      {"SCTP", 1, frame(1, build_ip(sctp))},
      {"IPv4 total length 0", 1, zero_length},
      {"IPv6 payload length 0", 1, jumbo},
      {"first fragment", 1, more_fragments},
      {"later fragment", 1, frame(1, fragment(tcp, 16)[1])},
      {"Linux cooked", 113, frame(113, tcp)},
  };
  for (const Case& c : cases) {
    const Both b = decode_both(c.link, c.frame, c.frame.size());
    EXPECT_FALSE(b.fast_ok) << c.what;
    EXPECT_TRUE(b.general_ok) << c.what << ": " << to_string(b.why);
  }
  // What the general decoder then says, by hand.
  const Both tags = decode_both(frame(1, tcp, {5, 6}));
  EXPECT_EQ(tags.general.vlan, (5u << 12) | 6u);
  const Both offload = decode_both(zero_length);
  EXPECT_EQ(offload.general.ip_bytes, tcp.size());
  const Both offload6 = decode_both(jumbo);
  EXPECT_EQ(offload6.general.ip_bytes, udp.size());
  const Both first = decode_both(more_fragments);
  EXPECT_TRUE(first.general.first_fragment);
  // IPv4 total length 19, shorter than its header: handed on, and dropped there.
  Bytes short_total = frame(1, tcp);
  short_total[14 + 2] = 0;
  short_total[14 + 3] = 19;
  const Both bad = decode_both(short_total);
  EXPECT_FALSE(bad.fast_ok);
  EXPECT_FALSE(bad.general_ok);
  EXPECT_EQ(bad.why, DropReason::kBadIpHeader);
}

// Every prefix of the common frames, and every single-byte change of their headers: when
// the fast path accepts, the general decoder accepts too, with the same PacketInfo.
TEST(DecoderFastTest, PrefixesAndCorruptionsAgreeWithTheGeneralDecoder) {
  std::size_t accepted = 0, handed_on = 0;
  const auto check = [&](const Bytes& f, std::size_t caplen, const char* what, std::size_t at) {
    const Both b = decode_both(1, f, caplen);
    if (!b.fast_ok) {
      ++handed_on;
      return;
    }
    ++accepted;
    ASSERT_TRUE(b.general_ok) << what << " " << at << ": " << to_string(b.why);
    ASSERT_TRUE(b.fast == b.general) << what << " " << at;
  };
  for (const Bytes& f : common_frames()) {
    for (std::size_t n = 0; n <= f.size(); ++n) check(f, n, "prefix", n);
    const std::size_t span = std::min<std::size_t>(f.size(), 18 + 40 + 20);
    for (std::size_t at = 0; at < span; ++at) {
      for (std::uint8_t value : {0x00, 0x01, 0x05, 0x06, 0x11, 0x20, 0x2c, 0x45, 0x46, 0x50, 0x60,
                                 0x81, 0x86, 0xdd, 0xff}) {
        Bytes g = f;
        g[at] = value;
        check(g, g.size(), "byte", at);
        check(g, std::min<std::size_t>(g.size(), 58), "byte (58 captured)", at);
      }
    }
  }
  EXPECT_GT(accepted, 1000u);
  EXPECT_GT(handed_on, 1000u);
}

// VXLAN records as the fast path takes them and as decode_record() gives them.
struct Vxlan {
  bool fast_ok = false;
  PacketInfo fast[2], general[kMaxPacketsPerRecord];
  Tunnel fast_tunnels[2], general_tunnels[kMaxPacketsPerRecord];
  DecodeResult general_result;
};

Vxlan decode_vxlan_both(const Bytes& f, std::size_t caplen) {
  std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[caplen ? caplen : 1]);
  if (caplen) std::memcpy(copy.get(), f.data(), caplen);
  const RawPacket raw{.ts_ns = 5,
                      .caplen = std::uint32_t(caplen),
                      .wire_len = std::uint32_t(f.size()),
                      .linktype = 1,
                      .data = copy.get()};
  Vxlan v;
  v.fast_ok = capture_detail::decode_vxlan_common(raw, v.fast, v.fast_tunnels);
  v.general_result = decode_record(raw, v.general, {}, v.general_tunnels);
  return v;
}

Bytes in_vxlan(const Bytes& inner_frame, bool v6_outer, std::uint16_t port,
               const std::vector<std::uint16_t>& outer_vlans = {}) {
  return frame(
      1,
      carrier(v6_outer ? "2001:db8:f::1" : "192.0.2.1", v6_outer ? "2001:db8:f::2" : "192.0.2.2",
              17, vxlan(9, inner_frame), 50000, port),
      outer_vlans);
}

std::vector<Bytes> vxlan_frames() {
  std::vector<Bytes> out;
  for (const Bytes& inner : common_frames()) {
    out.push_back(in_vxlan(inner, false, 4789));
    out.push_back(in_vxlan(inner, true, 8472, {3}));
  }
  return out;
}

TEST(DecoderFastTest, VxlanAroundTheCommonShapeGivesTheGeneralResult) {
  for (const Bytes& f : vxlan_frames()) {
    const Vxlan v = decode_vxlan_both(f, f.size());
    ASSERT_TRUE(v.fast_ok) << f.size();
    ASSERT_EQ(v.general_result.count, 2u);
    EXPECT_TRUE(v.fast[0] == v.general[0]);
    EXPECT_TRUE(v.fast[1] == v.general[1]);
    EXPECT_EQ(v.fast[1].tunnel, TunnelKind::kVxlan);
    EXPECT_TRUE(v.fast_tunnels[1] == v.general_tunnels[1]);
    EXPECT_EQ(v.fast_tunnels[1].depth, 1);
  }
  // Not this fast path's: nested VXLAN, two inner tags, no I flag, other tunnels.
  const Bytes tcp = frame(1, build_ip(tcp4()));
  Bytes no_flag = in_vxlan(tcp, false, 4789);
  no_flag[14 + 20 + 8] = 0;
  const Bytes others[] = {
      in_vxlan(in_vxlan(tcp, false, 4789), false, 4789),
      in_vxlan(frame(1, build_ip(tcp4()), {5, 6}), false, 4789), no_flag,
      frame(1, carrier("192.0.2.1", "192.0.2.2", 17, geneve(0x6558, 0, tcp), 50000, 6081))};
  for (const Bytes& f : others) EXPECT_FALSE(decode_vxlan_both(f, f.size()).fast_ok);
}

TEST(DecoderFastTest, VxlanPrefixesAndCorruptionsAgreeWithTheGeneralDecoder) {
  std::size_t accepted = 0;
  const auto check = [&](const Bytes& f, std::size_t caplen, std::size_t at) {
    const Vxlan v = decode_vxlan_both(f, caplen);
    if (!v.fast_ok) return;
    ++accepted;
    ASSERT_EQ(v.general_result.count, 2u) << at;
    ASSERT_TRUE(v.fast[0] == v.general[0]) << at;
    ASSERT_TRUE(v.fast[1] == v.general[1]) << at;
    ASSERT_TRUE(v.fast_tunnels[1] == v.general_tunnels[1]) << at;
  };
  for (const Bytes& f : vxlan_frames()) {
    for (std::size_t n = 0; n <= f.size(); ++n) check(f, n, n);
    for (std::size_t at = 0; at < std::min<std::size_t>(f.size(), 140); ++at) {
      for (std::uint8_t value : {0x00, 0x08, 0x11, 0x12, 0x45, 0x60, 0x81, 0xff}) {
        Bytes g = f;
        g[at] = value;
        check(g, g.size(), at);
      }
    }
  }
  EXPECT_GT(accepted, 500u);
}

}  // namespace
}  // namespace sockscope::testing
