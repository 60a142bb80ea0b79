// IPv6 routing headers: the final destination keys the conversation (RFC 8200 4.4 and
// 8.1: it is the address the transport checksum covers, and the one Zeek's FinalDst
// and tshark name): the last address of a type 0 header, the home address of a type 2
// header and segments[0] of a segment routing header while segments are left; the
// header's own destination once none are left. Expectations worked out by hand.
#include <gtest/gtest.h>

#include "capture/capture_test_util.hpp"

namespace sockscope::testing {
namespace {

Packet routed(const char* dst, std::uint8_t type, std::uint8_t left, std::vector<IpAddress> route) {
  return Packet{.src = v6("2001:db8::1"),
                .dst = v6(dst),
                .protocol = 17,
                .sport = 40000,
                .dport = 7000,
                .payload = 10,
                .ipv6_ext = {43},
                .routing_type = type,
                .segments_left = left,
                .route = std::move(route)};
}

CaptureRun run_packets(const std::vector<Packet>& packets) {
  CaptureWriter w(CaptureWriter::kPcapNano);
  for (std::size_t i = 0; i < packets.size(); ++i) {
    w.packet(at(1.0 + double(i)), frame(1, build_ip(packets[i])));
  }
  return run_capture(w.bytes());
}

TEST(RoutingHeaderTest, Type0KeysTheLastAddress) {
  // Sent toward the first hop 2001:db8::a, through 2001:db8::b, to 2001:db8::f.
  Packet out = routed("2001:db8::a", 0, 2, {v6("2001:db8::b"), v6("2001:db8::f")});
  Packet back{.src = v6("2001:db8::f"),
              .dst = v6("2001:db8::1"),
              .protocol = 17,
              .sport = 7000,
              .dport = 40000,
              .payload = 20};
  auto run = run_packets({out, back});
  ASSERT_EQ(run.conversations.size(), 1u);
  EXPECT_EQ(run.conversations[0].pair.to_string(), "udp [2001:db8::1]:40000, [2001:db8::f]:7000");
  EXPECT_EQ(run.conversations[0].client.packets, 1u);
  EXPECT_EQ(run.conversations[0].server.packets, 1u);
  // 40 + routing header 8 + 2 * 16 + UDP 8 + 10
  EXPECT_EQ(run.conversations[0].client.ip_bytes, 98u);
}

TEST(RoutingHeaderTest, Type2KeysTheHomeAddress) {
  auto run = run_packets({routed("2001:db8::c0a", 2, 1, {v6("2001:db8::40e")})});
  ASSERT_EQ(run.conversations.size(), 1u);
  EXPECT_EQ(run.conversations[0].pair.second.to_string(), "[2001:db8::40e]:7000");
}

TEST(RoutingHeaderTest, SegmentRoutingKeysSegmentZeroWhileSegmentsAreLeft) {
  // SRH lists the path last segment first: 2001:db8::e is the final one.
  auto run = run_packets({
      routed("2001:db8::5", 4, 1, {v6("2001:db8::e"), v6("2001:db8::5")}),
      routed("2001:db8::e", 4, 0, {v6("2001:db8::e"), v6("2001:db8::5")}),  // at the end
  });
  ASSERT_EQ(run.conversations.size(), 1u);
  EXPECT_EQ(run.conversations[0].pair.second.to_string(), "[2001:db8::e]:7000");
  EXPECT_EQ(run.conversations[0].client.packets, 2u);
}

TEST(RoutingHeaderTest, NoSegmentsLeftOrUnknownTypeKeepsTheHeaderDestination) {
  auto run = run_packets({
      routed("2001:db8::a", 0, 0, {v6("2001:db8::f")}),
      routed("2001:db8::b", 3, 1, {v6("2001:db8::f")}),  // RPL: not taken apart
  });
  ASSERT_EQ(run.conversations.size(), 2u);
  EXPECT_EQ(by_client(run, "[2001:db8::1]:40000").size(), 2u);
  for (const auto& c : run.conversations) {
    EXPECT_TRUE(c.pair.second.to_string() == "[2001:db8::a]:7000" ||
                c.pair.second.to_string() == "[2001:db8::b]:7000")
        << c.pair.to_string();
  }
}

// An ICMPv6 error quoting a routed datagram finds its conversation by the final
// destination too.
TEST(RoutingHeaderTest, QuotedRoutedPacketFindsItsConversation) {
  const Packet out = routed("2001:db8::a", 0, 1, {v6("2001:db8::f")});
  const Bytes ip = build_ip(out);
  Packet error{.src = v6("2001:db8::a"), .dst = v6("2001:db8::1"), .protocol = 58};
  error.icmp_type = 1;
  error.icmp_code = 3;
  error.icmp_quote = Bytes(ip.begin(), ip.begin() + 40 + 24 + 8);
  auto run = run_packets({out, error});
  auto udp = by_client(run, "[2001:db8::1]:40000");
  ASSERT_EQ(udp.size(), 1u);
  EXPECT_EQ(udp[0]->pair.second.to_string(), "[2001:db8::f]:7000");
  ASSERT_TRUE(udp[0]->icmp_error.has_value());
  EXPECT_EQ(udp[0]->icmp_error->name(), "address-unreachable");
}

}  // namespace
}  // namespace sockscope::testing
