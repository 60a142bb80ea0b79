// Hostile input for the packet decoder: every prefix of valid frames for every link
// type, tunnels included, and every single-byte corruption of their headers, in buffers
// sized exactly (so AddressSanitizer, in the debug suite, catches any read past the
// capture), with checksums checked and not. Properties: a result or a reason, never a
// crash; a prefix too short for the headers is a truncation, not a success.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "capture/capture_test_util.hpp"
#include "capture/tunnel_builder.hpp"

namespace sockscope::testing {
namespace {

const Packet kTcp{.src = v4("10.0.0.1"),
                  .dst = v4("10.0.0.2"),
                  .protocol = 6,
                  .sport = 1000,
                  .dport = 80,
                  .flags = kSyn,
                  .payload = 10,
                  .tcp_options = 8,
                  .ipv4_options = 4};

std::vector<std::pair<std::uint32_t, Bytes>> frames() {
  std::vector<std::pair<std::uint32_t, Bytes>> out;
  const Packet& tcp = kTcp;
  Packet udp6{.src = v6("2001:db8::1"),
              .dst = v6("2001:db8::2"),
              .protocol = 17,
              .sport = 5,
              .dport = 53,
              .payload = 12,
              .ipv6_ext = {0, 43, 60}};
  Packet sctp{.src = v4("10.0.0.1"),
              .dst = v4("10.0.0.2"),
              .protocol = 132,
              .sport = 7,
              .dport = 8,
              .sctp_chunk = 1};
  const Bytes quoted = build_ip(tcp);
  Packet icmp{.src = v4("10.0.0.9"),
              .dst = v4("10.0.0.1"),
              .protocol = 1,
              .icmp_type = 3,
              .icmp_code = 1,
              .icmp_quote = Bytes(quoted.begin(), quoted.begin() + 32)};
  Packet echo6{.src = v6("2001:db8::1"),
               .dst = v6("2001:db8::2"),
               .protocol = 58,
               .icmp_type = 128,
               .icmp_id = 9};
  for (const Packet& p : {tcp, udp6, sctp, icmp, echo6}) {
    const Bytes ip = build_ip(p);
    for (std::uint32_t link : {1u, 0u, 108u, 101u, 113u, 276u}) {
      out.emplace_back(
          link, frame(link, ip,
                      link == 1 ? std::vector<std::uint16_t>{5, 6} : std::vector<std::uint16_t>{}));
    }
    for (const Bytes& f : fragment(ip, 64)) out.emplace_back(101, f);
  }
  return out;
}

bool decode_exact(std::uint32_t link, const std::uint8_t* data, std::size_t n, PacketInfo& info,
                  DropReason& why) {
  std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[n ? n : 1]);
  if (n) std::memcpy(copy.get(), data, n);
  RawPacket raw{.ts_ns = 1,
                .caplen = std::uint32_t(n),
                .wire_len = std::uint32_t(n),
                .linktype = link,
                .data = copy.get()};
  return decode_packet(raw, info, why);
}

std::vector<Bytes> tunnel_frames() {
  Packet udp6{.src = v6("2001:db8::1"), .dst = v6("2001:db8::2"), .protocol = 17};
  udp6.payload = 4;
  const Packet& tcp = kTcp;
  const Bytes t = build_ip(tcp), u = build_ip(udp6);
  const auto over_udp = [](const Bytes& d, std::uint16_t sport, std::uint16_t dport) {
    return frame(1, carrier("192.0.2.1", "192.0.2.2", 17, d, sport, dport));
  };
  const auto over_gre = [](const Bytes& d) {
    return frame(1, carrier("192.0.2.1", "192.0.2.2", 47, d));
  };
  return {over_udp(vxlan(1, frame(1, t)), 5000, 4789),
          over_udp(geneve(0x86dd, 2, u), 5000, 6081),
          over_udp(teredo(u, true, true), 3544, 5000),
          over_udp(gtp_u(3, t, true), 2152, 2152),
          over_udp(vxlan_gpe(4, nsh(5, mpls({3}, t))), 5000, 4790),
          over_gre(gre(0x0800, t, {.checksum = true, .key = 1, .sequence = 2})),
          over_gre(gre(0x22eb, erspan_iii(1, frame(1, u), true), {.sequence = 2})),
          frame(1, carrier("192.0.2.1", "192.0.2.2", 41, u)),
          ethernet(0x8847, mpls({1, 2}, t)),
          ethernet(0x8864, pppoe_session(4, u)),
          over_gre(gre(0x0800,
                       carrier("172.16.0.1", "172.16.0.2", 17, vxlan(2, frame(1, t)), 9, 4789)))};
}

DecodeResult decode_exact_record(const std::uint8_t* data, std::size_t n, PacketInfo* out,
                                 Tunnel* tunnels, bool verify) {
  std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[n ? n : 1]);
  if (n) std::memcpy(copy.get(), data, n);
  RawPacket raw{.ts_ns = 1,
                .caplen = std::uint32_t(n),
                .wire_len = std::uint32_t(n),
                .linktype = 1,
                .data = copy.get()};
  return decode_record(raw, out, DecodeOptions{.verify_checksums = verify}, tunnels);
}

// Tunnels cut at every byte and corrupted at every header byte: packets or a reason,
// never more packets than the room, lengths consistent; cut ones end in truncations.
TEST(DecoderHostileTest, TunnelsCutAndCorruptedNeverCrash) {
  std::size_t packets = 0, inner_dropped = 0;
  for (const Bytes& f : tunnel_frames()) {
    PacketInfo out[kMaxPacketsPerRecord];
    Tunnel tunnels[kMaxPacketsPerRecord];
    ASSERT_GE(decode_exact_record(f.data(), f.size(), out, tunnels, true).count, 1u);
    for (std::size_t n = 0; n <= f.size(); ++n) {
      for (std::size_t at = 0; at < std::min<std::size_t>(n, 90); ++at) {
        for (std::uint8_t value : {0x00, 0x08, 0x45, 0x65, 0xff}) {
          Bytes g(f.begin(), f.begin() + std::ptrdiff_t(n));
          g[at] = value;
          const DecodeResult r = decode_exact_record(g.data(), g.size(), out, tunnels, at % 2 == 0);
          ASSERT_LE(r.count, kMaxPacketsPerRecord);
          ASSERT_LT(std::size_t(r.why), kDropReasonCount);
          for (std::size_t i = 0; i < r.count; ++i) {
            if (out[i].kind == PacketInfo::Kind::kNormal) {
              EXPECT_LE(out[i].payload_bytes, out[i].ip_bytes);
            }
            if (out[i].tunnel != TunnelKind::kNone) {
              EXPECT_EQ(tunnels[i].kind, out[i].tunnel);
              EXPECT_LE(tunnels[i].depth, kMaxTunnelDepth);
            }
          }
          packets += r.count;
          inner_dropped += r.inner_dropped;
        }
      }
    }
  }
  EXPECT_GT(packets, 0u);
  EXPECT_GT(inner_dropped, 0u);
}

TEST(DecoderHostileTest, EveryPrefixDecodesOrSaysWhy) {
  for (const auto& [link, f] : frames()) {
    PacketInfo full;
    DropReason why;
    ASSERT_TRUE(decode_exact(link, f.data(), f.size(), full, why))
        << "link " << link << ": " << to_string(why);
    for (std::size_t n = 0; n < f.size(); ++n) {
      PacketInfo info;
      DropReason reason = DropReason::kNotIp;
      if (decode_exact(link, f.data(), n, info, reason)) {
        // Success on a prefix only when the headers were complete: same pair, same
        // lengths (they come from the IP header, not the captured size).
        EXPECT_EQ(info.ip_bytes, full.ip_bytes) << "link " << link << " prefix " << n;
        EXPECT_EQ(info.src_port, full.src_port);
        EXPECT_EQ(info.payload_bytes, full.payload_bytes);
      } else {
        EXPECT_TRUE(reason == DropReason::kTruncatedLink || reason == DropReason::kTruncatedIp ||
                    reason == DropReason::kTruncatedTransport || reason == DropReason::kNotIp ||
                    reason == DropReason::kBadIpHeader)
            << "link " << link << " prefix " << n << ": " << to_string(reason);
      }
    }
  }
}

TEST(DecoderHostileTest, CorruptedHeaderBytesNeverCrash) {
  std::size_t decoded = 0, dropped = 0;
  for (const auto& [link, f] : frames()) {
    const std::size_t span = std::min<std::size_t>(f.size(), 120);
    for (std::size_t at = 0; at < span; ++at) {
      for (std::uint8_t value : {0x00, 0x01, 0x45, 0x60, 0x7f, 0x80, 0xff}) {
        Bytes g = f;
        g[at] = value;
        PacketInfo info;
        DropReason why;
        if (decode_exact(link, g.data(), g.size(), info, why)) {
          ++decoded;
          EXPECT_LE(info.payload_bytes, info.ip_bytes);
        } else {
          ++dropped;
        }
      }
    }
  }
  EXPECT_GT(decoded, 0u);
  EXPECT_GT(dropped, 0u);
}

}  // namespace
}  // namespace sockscope::testing
