// Zeek's connection rules, each a regression test whose expectation is worked out by
// hand from Zeek's documented semantics (TCPSessionAdapter: last time set only while a
// side has not closed, the tcp_attempt_delay timer; WantConnection: roles flipped for a
// first packet from one of likely_server_ports, with the '^' history letter).
#include <gtest/gtest.h>

#include "capture/capture_test_util.hpp"

namespace sockscope::testing {
namespace {

const char* kClient = "10.0.0.1";
const char* kServer = "10.0.0.2";

void handshake(Builder& b, double t, std::uint16_t port) {
  b.tcp(t, kClient, port, kServer, 80, kSyn, 100, 0);
  b.tcp(t + 0.1, kServer, 80, kClient, port, kSyn | kAck, 500, 101);
  b.tcp(t + 0.2, kClient, port, kServer, 80, kAck, 101, 501);
}

// Duration ends when both sides have closed; packets after that still count.
TEST(ZeekRulesTest, DurationEndsAtTheSecondClose) {
  Builder b;
  handshake(b, 1.0, 40000);
  b.tcp(1.5, kClient, 40000, kServer, 80, kFin | kAck, 101, 501);
  b.tcp(2.0, kServer, 80, kClient, 40000, kAck, 501, 102);         // server still open: counts
  b.tcp(2.5, kServer, 80, kClient, 40000, kFin | kAck, 501, 102);  // the close is complete
  b.tcp(3.0, kClient, 40000, kServer, 80, kAck, 102, 502);         // counted, not timed
  b.tcp(3.1, kServer, 80, kClient, 40000, kAck, 502, 102);         // a stray ACK, the same
  auto run = b.run();
  ASSERT_EQ(run.conversations.size(), 1u);
  const Conversation& c = run.conversations[0];
  EXPECT_EQ(c.first_ns, at(1.0));
  EXPECT_EQ(c.last_ns, at(2.5));
  EXPECT_EQ(c.client.packets + c.server.packets, 8u);
  EXPECT_EQ(c.conn_state, ConnState::kSF);
}

// One side's RST closes only that side: the other side's later packets still move the
// last time (Zeek's did_close is per endpoint); a RST from both freezes it.
TEST(ZeekRulesTest, OneResetLeavesTheOtherSideOpen) {
  Builder b;
  handshake(b, 1.0, 40001);
  b.tcp(2.0, kClient, 40001, kServer, 80, kRst, 101, 0);
  b.tcp(2.4, kServer, 80, kClient, 40001, kAck | kPsh, 501, 101, 10);  // in flight
  handshake(b, 10.0, 40002);
  b.tcp(11.0, kClient, 40002, kServer, 80, kRst, 101, 0);
  b.tcp(11.2, kServer, 80, kClient, 40002, kRst, 501, 0);
  b.tcp(11.4, kServer, 80, kClient, 40002, kRst, 501, 0);  // after both: not timed
  auto run = b.run();
  auto one = by_client(run, "10.0.0.1:40001");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0]->last_ns, at(2.4));
  EXPECT_EQ(one[0]->conn_state, ConnState::kRSTO);
  auto both = by_client(run, "10.0.0.1:40002");
  ASSERT_EQ(both.size(), 1u);
  EXPECT_EQ(both[0]->last_ns, at(11.2));
  EXPECT_EQ(both[0]->server.packets, 3u);
}

// Linux retries an unanswered SYN after 1, 3, 7 and 15 s. Zeek's attempt timer ends
// the attempt 5 s after the first SYN: the SYNs at 0, 1 and 3 s are one S0 attempt,
// the one at 7 s starts another (whose timer ends at 12 s), and the one at 15 s a third.
TEST(ZeekRulesTest, UnansweredSynEndsTheAttemptAfterFiveSeconds) {
  Builder b;
  for (double t : {0.0, 1.0, 3.0, 7.0, 15.0}) {
    b.tcp(100.0 + t, kClient, 40010, kServer, 80, kSyn, 1000, 0);
  }
  auto run = b.run();
  auto v = by_client(run, "10.0.0.1:40010");
  ASSERT_EQ(v.size(), 3u);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> starts;  // (first, packets)
  for (const auto* c : v) {
    EXPECT_EQ(c->conn_state, ConnState::kS0);
    EXPECT_EQ(c->history, "S");
    starts.emplace_back(c->first_ns, c->client.packets);
  }
  std::sort(starts.begin(), starts.end());
  EXPECT_EQ(starts[0], std::make_pair(at(100.0), std::uint64_t(3)));
  EXPECT_EQ(starts[1], std::make_pair(at(107.0), std::uint64_t(1)));
  EXPECT_EQ(starts[2], std::make_pair(at(115.0), std::uint64_t(1)));

  ConversationOptions longer;
  longer.tcp_attempt_delay_ns = at(20);
  EXPECT_EQ(by_client(b.run(longer), "10.0.0.1:40010").size(), 1u);
}

// An answer within the delay keeps the connection; one after it finds the attempt
// gone and starts a conversation of its own (a SYN-ACK first, from a likely server
// port: Zeek flips it, '^h').
TEST(ZeekRulesTest, LateAnswerStartsANewConversation) {
  Builder b;
  b.tcp(1.0, kClient, 40020, kServer, 80, kSyn, 100, 0);
  b.tcp(5.9, kServer, 80, kClient, 40020, kSyn | kAck, 500, 101);  // 4.9 s: in time
  b.tcp(6.0, kClient, 40020, kServer, 80, kAck, 101, 501);
  b.tcp(10.0, kClient, 40021, kServer, 80, kSyn, 100, 0);
  b.tcp(16.0, kServer, 80, kClient, 40021, kSyn | kAck, 500, 101);  // 6 s: too late
  auto run = b.run();
  auto kept = by_client(run, "10.0.0.1:40020");
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0]->history, "ShA");
  EXPECT_EQ(kept[0]->conn_state, ConnState::kS1);
  auto late = by_client(run, "10.0.0.1:40021");
  ASSERT_EQ(late.size(), 2u);
  const bool first_is_attempt = late[0]->first_ns < late[1]->first_ns;
  const Conversation& attempt = first_is_attempt ? *late[0] : *late[1];
  const Conversation& answer = first_is_attempt ? *late[1] : *late[0];
  EXPECT_EQ(attempt.conn_state, ConnState::kS0);
  EXPECT_EQ(attempt.history, "S");
  EXPECT_EQ(answer.history, "^h");
  EXPECT_EQ(answer.evidence, Evidence::kHandshake);
  EXPECT_EQ(answer.first_ns, at(16.0));
}

// Zeek's likely_server_ports rule for the first packet of a conversation.
TEST(ZeekRulesTest, LikelyServerPortsDecideALoneReplysRoles) {
  Builder b;
  b.udp(1.0, "10.0.0.9", 67, "10.0.0.200", 68, 300);        // DHCP offer: 68 is the client
  b.udp(2.0, "10.0.0.9", 123, "10.0.0.5", 123, 48);         // both likely: no flip (UDP)
  b.udp(3.0, "10.0.0.9", 5000, "10.0.0.6", 40000, 10);      // 5000 is not likely: no flip
  b.tcp(4.0, "10.0.0.9", 80, "10.0.0.7", 443, kAck, 1, 1);  // both likely: higher port serves
  b.tcp(5.0, "10.0.0.9", 80, "10.0.0.8", 443, kSyn | kAck, 1, 1);        // a SYN-ACK: no flip
  b.tcp(6.0, "10.0.0.9", 22, "10.0.0.8", 50000, kAck | kPsh, 1, 1, 20);  // ssh reply
  auto run = b.run();
  ASSERT_EQ(run.conversations.size(), 6u);
  auto expect = [&](const char* client, Evidence evidence, const char* history) {
    auto v = by_client(run, client);
    ASSERT_EQ(v.size(), 1u) << client;
    EXPECT_EQ(v[0]->evidence, evidence) << client;
    EXPECT_EQ(v[0]->history, history) << client;
  };
  expect("10.0.0.200:68", Evidence::kLikelyServerPort, "^d");
  expect("10.0.0.9:123", Evidence::kFirstPacket, "D");
  expect("10.0.0.9:5000", Evidence::kFirstPacket, "D");
  expect("10.0.0.7:443", Evidence::kLikelyServerPort, "^a");
  expect("10.0.0.9:80", Evidence::kFirstPacket, "H");
  expect("10.0.0.8:50000", Evidence::kLikelyServerPort, "^d");
}

}  // namespace
}  // namespace sockscope::testing
