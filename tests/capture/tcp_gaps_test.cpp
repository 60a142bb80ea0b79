// Content gaps and checksums as Zeek reports them, each expectation worked out by hand
// from Zeek's TCP_Reassembler (a gap is sequence space the peer acknowledges that the
// capture never had; reported, with the scaled history letter G/g and in missed_bytes,
// only while both endpoints are established or closed cleanly) and its checksum rule
// (-C off: a bad TCP/UDP checksum leaves C/c and the packet is not analysed further).
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "capture/capture_test_util.hpp"
#include "capture/flow.hpp"

namespace sockscope::testing {
namespace {

const char* kC = "10.0.0.1";
const char* kS = "10.0.0.2";

// Client ISN 100, server ISN 500: the client's data starts at 101, the server's at 501.
void handshake(Builder& b, std::uint16_t port) {
  b.tcp(1.0, kC, port, kS, 80, kSyn, 100, 0);
  b.tcp(1.1, kS, 80, kC, port, kSyn | kAck, 500, 101);
  b.tcp(1.2, kC, port, kS, 80, kAck, 101, 501);
}

const Conversation& only(const CaptureRun& run) {
  EXPECT_EQ(run.conversations.size(), 1u);
  return run.conversations.at(0);
}

TEST(TcpGapsTest, AckedHoleIsMissed) {
  Builder b;
  handshake(b, 40000);
  b.tcp(1.3, kC, 40000, kS, 80, kAck, 101, 501, 100);  // [101, 201)
  // [201, 301) was never captured
  b.tcp(1.5, kC, 40000, kS, 80, kAck, 301, 501, 100);  // [301, 401)
  b.tcp(1.6, kS, 80, kC, 40000, kAck, 501, 401);       // acknowledges all of it
  const Conversation c = only(b.run());
  EXPECT_EQ(c.missed_bytes, 100u);
  EXPECT_EQ(c.history, "ShADaG");
  EXPECT_EQ(c.client.payload_bytes, 200u);
}

// The missing segment arrives (out of order) before the ACK: no gap, and Zeek calls it
// a retransmission, as it does not advance the highest sequence number.
TEST(TcpGapsTest, HoleFilledBeforeTheAckIsNotMissed) {
  Builder b;
  handshake(b, 40001);
  b.tcp(1.3, kC, 40001, kS, 80, kAck, 101, 501, 100);
  b.tcp(1.5, kC, 40001, kS, 80, kAck, 301, 501, 100);
  b.tcp(1.55, kC, 40001, kS, 80, kAck, 201, 501, 100);
  b.tcp(1.6, kS, 80, kC, 40001, kAck, 501, 401);
  const Conversation c = only(b.run());
  EXPECT_EQ(c.missed_bytes, 0u);
  EXPECT_EQ(c.history, "ShADTa");
}

// Data the capture lost at the end of what was seen, acknowledged by the peer: both
// directions, each with its own letter; a FIN's own sequence number is not data.
TEST(TcpGapsTest, TailGapsInBothDirectionsAndFinIsNotData) {
  Builder b;
  handshake(b, 40002);
  b.tcp(1.3, kC, 40002, kS, 80, kAck, 101, 501, 100);   // [101, 201)
  b.tcp(1.4, kS, 80, kC, 40002, kAck, 501, 351, 0);     // acks 150 bytes never seen
  b.tcp(1.5, kS, 80, kC, 40002, kAck, 501, 351, 1000);  // [501, 1501)
  b.tcp(1.6, kC, 40002, kS, 80, kAck, 351, 1801, 0);    // acks 300 bytes never seen
  b.tcp(1.7, kC, 40002, kS, 80, kFin | kAck, 351, 1801);
  b.tcp(1.8, kS, 80, kC, 40002, kFin | kAck, 1801, 352);  // acks the FIN only
  b.tcp(1.9, kC, 40002, kS, 80, kAck, 352, 1802);
  const Conversation c = only(b.run());
  EXPECT_EQ(c.missed_bytes, 150u + 300u);
  EXPECT_EQ(c.history, "ShADaGdgFf");
  EXPECT_EQ(c.conn_state, ConnState::kSF);
}

// Zeek reports gaps only for connections established both ways: not for one seen
// from its middle, nor for an ACK carried by a RST.
TEST(TcpGapsTest, PartialConnectionsAndResetsReportNoGaps) {
  Builder b;
  b.tcp(1.0, kC, 40003, kS, 80, kAck, 1000, 5000, 100);
  b.tcp(1.1, kS, 80, kC, 40003, kAck, 5000, 1300);  // 200 bytes unseen, but partial
  handshake(b, 40004);
  b.tcp(1.3, kC, 40004, kS, 80, kAck, 101, 501, 100);
  b.tcp(1.4, kS, 80, kC, 40004, kRst | kAck, 501, 301);  // a RST acking unseen data
  auto run = b.run();
  for (const auto& c : run.conversations) {
    EXPECT_EQ(c.missed_bytes, 0u) << c.pair.to_string();
    EXPECT_EQ(c.history.find_first_of("Gg"), std::string::npos) << c.history;
  }
  EXPECT_EQ(run.conversations.size(), 2u);
}

// Many gaps: the letter is scaled (1st, 10th, ...) and the bytes add up.
TEST(TcpGapsTest, GapLetterIsScaled) {
  Builder b;
  handshake(b, 40005);
  std::uint32_t seq = 101;
  for (int i = 0; i < 12; ++i) {
    b.tcp(2.0 + i * 0.1, kC, 40005, kS, 80, kAck, seq, 501, 10);
    seq += 10 + 5;  // 5 bytes lost after every segment
    b.tcp(2.05 + i * 0.1, kS, 80, kC, 40005, kAck, 501, seq);
  }
  const Conversation c = only(b.run());
  EXPECT_EQ(c.missed_bytes, 12u * 5u);
  EXPECT_EQ(c.history, "ShADaGG");
}

CaptureRun run_with_checksums(const Builder& b, bool verify) {
  ConversationOptions o;
  o.verify_checksums = verify;
  return b.run(o);
}

TEST(ChecksumTest, BadChecksumsLeaveCAndAreNotCountedWhenVerifying) {
  Builder b;
  handshake(b, 40010);
  b.tcp(1.3, kC, 40010, kS, 80, kAck, 101, 501, 100);
  b.corrupt_last(14 + 20 + 16);
  b.tcp(1.4, kC, 40010, kS, 80, kAck, 101, 501, 100);  // the retransmission, good
  b.udp(2.0, kC, 41000, kS, 53, 30);
  b.corrupt_last(14 + 20 + 6);
  b.udp(2.1, kC, 41000, kS, 53, 30);
  b.udp(2.2, kS, 53, kC, 41000, 60);
  auto checked = run_with_checksums(b, true);
  EXPECT_EQ(checked.stats.bad_checksums, 2u);
  auto tcp = by_client(checked, "10.0.0.1:40010");
  ASSERT_EQ(tcp.size(), 1u);
  EXPECT_EQ(tcp[0]->history, "ShACD");
  EXPECT_EQ(tcp[0]->client.packets, 3u);  // SYN, ACK, the good data packet
  auto udp = by_client(checked, "10.0.0.1:41000");
  ASSERT_EQ(udp.size(), 1u);
  EXPECT_EQ(udp[0]->history, "CDd");
  EXPECT_EQ(udp[0]->client.packets, 1u);

  auto unchecked = run_with_checksums(b, false);  // the default, as Zeek's -C
  EXPECT_EQ(unchecked.stats.bad_checksums, 0u);
  auto tcp2 = by_client(unchecked, "10.0.0.1:40010");
  ASSERT_EQ(tcp2.size(), 1u);
  EXPECT_EQ(tcp2[0]->history, "ShADT");
  EXPECT_EQ(tcp2[0]->client.packets, 4u);
}

TEST(ChecksumTest, BadIpv4HeaderChecksumDropsThePacketWhenVerifying) {
  Builder b;
  b.udp(1.0, kC, 41001, kS, 53, 30);
  b.corrupt_last(14 + 10);  // the IPv4 header checksum
  b.udp(1.1, kS, 53, kC, 41001, 30);
  auto checked = run_with_checksums(b, true);
  EXPECT_EQ(checked.stats.dropped[std::size_t(DropReason::kBadIpChecksum)], 1u);
  ASSERT_EQ(checked.conversations.size(), 1u);
  EXPECT_EQ(checked.conversations[0].history, "^d");
  EXPECT_EQ(run_with_checksums(b, false).stats.dropped_total(), 0u);
}

// tcp_update()'s inline path (no SYN/FIN/RST, sender set up) against the general one
// it short-cuts: random packets on a flow, every field of the flow, the return value
// and the gap check the same after each.
TEST(TcpUpdateTest, InlinePathEqualsTheGeneralPath) {
  using capture_detail::Flow;
  using capture_detail::GapCheck;
  std::mt19937 rng(7);
  const std::uint8_t flag_sets[] = {0x10, 0x18, 0x10, 0x18, 0x00, 0x02, 0x12, 0x11, 0x04, 0x14};
  std::size_t inline_packets = 0;
  for (int run = 0; run < 2000; ++run) {
    Flow a, b;
    std::memset(&a, 0, sizeof a);
    a.orig = std::uint8_t(rng() % 2);
    a.first_ns = 1;
    std::uint32_t seq[2] = {std::uint32_t(rng()), std::uint32_t(rng())};
    for (int i = 0; i < 40; ++i) {
      PacketInfo p;
      const int side = int(rng() % 2);
      p.ts_ns = 1 + std::uint64_t(i);
      p.tcp_flags = flag_sets[rng() % (i < 3 ? 7 : std::size(flag_sets))];
      p.payload_bytes = rng() % 3 == 0 ? 0 : rng() % 200;
      p.window = rng() % 8 == 0 ? 0 : 1000;
      switch (rng() % 6) {
        case 0: seq[side] -= rng() % 300; break;   // a retransmission
        case 1: seq[side] += rng() % 3000; break;  // a hole
        default: break;
      }
      p.seq = seq[side];
      p.ack = seq[1 - side] + (rng() % 5 == 0 ? rng() % 500 : 0);
      seq[side] += p.payload_bytes;
      std::memcpy(&b, &a, sizeof a);
      const bool fast = (p.tcp_flags & 0x07) == 0 && (a.seq_init & (1u << side)) &&
                        a.state[side] != capture_detail::kInactive;
      inline_packets += fast;
      GapCheck ga, gb;
      const bool ra = capture_detail::tcp_update(a, side, p, ga);
      const bool rb = capture_detail::tcp_update_general(b, side, p, gb);
      ASSERT_EQ(ra, rb) << run << " " << i;
      ASSERT_EQ(std::memcmp(&a, &b, sizeof a), 0) << run << " " << i;
      if (ra) {
        ASSERT_EQ(ga.sender_known, gb.sender_known);
        ASSERT_EQ(ga.sender_last, gb.sender_last);
      }
    }
  }
  EXPECT_GT(inline_packets, 20000u);
}

}  // namespace
}  // namespace sockscope::testing
