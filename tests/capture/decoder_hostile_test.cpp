// Hostile input for the packet decoder: every prefix of valid frames for every link
// type, and every single-byte corruption of their headers, in buffers sized exactly
// (so AddressSanitizer, in the debug suite, catches any read past the capture).
// Properties: a result or a reason, never a crash; a prefix too short for the headers
// is a truncation, not a success.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "capture/capture_test_util.hpp"

namespace sockscope::testing {
namespace {

std::vector<std::pair<std::uint32_t, Bytes>> frames() {
  std::vector<std::pair<std::uint32_t, Bytes>> out;
  Packet tcp{.src = v4("10.0.0.1"),
             .dst = v4("10.0.0.2"),
             .protocol = 6,
             .sport = 1000,
             .dport = 80,
             .flags = kSyn,
             .payload = 10,
             .tcp_options = 8,
             .ipv4_options = 4};
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
