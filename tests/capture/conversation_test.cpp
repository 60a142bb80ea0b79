// Conversations from generated captures, against hand-computed results: roles and
// their evidence, per-direction packets/IP bytes/payload bytes, Zeek's conn_state and
// history, port reuse, idle timeouts, VLANs, fragments, ICMP, eviction.
#include <gtest/gtest.h>

#include <stdexcept>

#include "capture/capture_test_util.hpp"

namespace sockscope::testing {
namespace {

// A complete connection: handshake, data both ways, FIN from each side.
void full_connection(Builder& b, double t0, std::uint16_t sport, std::uint32_t isn = 100) {
  const char* c = "10.0.0.1";
  const char* s = "10.0.0.2";
  b.tcp(t0 + 0.0, c, sport, s, 80, kSyn, isn, 0);
  b.tcp(t0 + 0.1, s, 80, c, sport, kSyn | kAck, 500, isn + 1);
  b.tcp(t0 + 0.2, c, sport, s, 80, kAck, isn + 1, 501);
  b.tcp(t0 + 0.3, c, sport, s, 80, kPsh | kAck, isn + 1, 501, 100);
  b.tcp(t0 + 0.4, s, 80, c, sport, kAck, 501, isn + 101);
  b.tcp(t0 + 0.5, s, 80, c, sport, kPsh | kAck, 501, isn + 101, 300);
  b.tcp(t0 + 0.6, c, sport, s, 80, kFin | kAck, isn + 101, 801);
  b.tcp(t0 + 0.7, s, 80, c, sport, kFin | kAck, 801, isn + 102);
  b.tcp(t0 + 0.8, c, sport, s, 80, kAck, isn + 102, 802);
}

TEST(ConversationTest, FullTcpConnection) {
  Builder b;
  full_connection(b, 1.0, 40000);
  auto run = b.run();
  ASSERT_EQ(run.conversations.size(), 1u);
  const Conversation& c = run.conversations[0];
  EXPECT_EQ(c.pair.to_string(), "tcp 10.0.0.1:40000, 10.0.0.2:80");
  EXPECT_EQ(c.evidence, Evidence::kHandshake);
  // client: SYN, ACK, data(100), FIN, ACK = 5 packets, 4*40 + 140 IP bytes
  EXPECT_EQ(c.client, (DirectionStats{5, 300, 100}));
  // server: SYN-ACK, ACK, data(300), FIN = 4 packets, 3*40 + 340
  EXPECT_EQ(c.server, (DirectionStats{4, 460, 300}));
  EXPECT_EQ(c.first_ns, at(1.0));
  // Zeek's duration ends when both sides have closed: at the server's FIN, not the
  // client's last ACK (counted all the same).
  EXPECT_EQ(c.last_ns, at(1.7));
  EXPECT_EQ(c.duration_ns(), at(0.7));
  EXPECT_EQ(c.conn_state, ConnState::kSF);
  EXPECT_EQ(c.history, "ShADadFf");
  EXPECT_EQ(c.community_id(), "1:" + c.community_id().substr(2));
  EXPECT_EQ(run.stats.packets, 9u);
  EXPECT_EQ(run.stats.decoded, 9u);
  EXPECT_EQ(run.stats.dropped_total(), 0u);
}

TEST(ConversationTest, RejectedAttemptAndResets) {
  Builder b;
  const char* c = "10.0.0.1";
  const char* s = "10.0.0.2";
  b.tcp(1.0, c, 40001, s, 81, kSyn, 1, 0);  // REJ: SYN, RST-ACK
  b.tcp(1.1, s, 81, c, 40001, kRst | kAck, 0, 2);
  b.tcp(2.0, c, 40002, s, 82, kSyn, 1, 0);  // S0: SYN only
  b.tcp(3.0, c, 40003, s, 83, kSyn, 1, 0);  // RSTO: established, client resets
  b.tcp(3.1, s, 83, c, 40003, kSyn | kAck, 9, 2);
  b.tcp(3.2, c, 40003, s, 83, kAck, 2, 10);
  b.tcp(3.3, c, 40003, s, 83, kRst, 2, 0);
  b.tcp(4.0, c, 40004, s, 84, kSyn, 1, 0);  // RSTR: established, server resets
  b.tcp(4.1, s, 84, c, 40004, kSyn | kAck, 9, 2);
  b.tcp(4.2, c, 40004, s, 84, kAck, 2, 10);
  b.tcp(4.3, s, 84, c, 40004, kRst, 10, 0);
  b.tcp(5.0, c, 40005, s, 85, kSyn, 1, 0);  // RSTOS0: SYN then RST, no SYN-ACK
  b.tcp(5.1, c, 40005, s, 85, kRst, 2, 0);
  b.tcp(6.0, c, 40006, s, 86, kSyn, 1, 0);  // SH: SYN then FIN, no SYN-ACK
  b.tcp(6.1, c, 40006, s, 86, kFin | kAck, 2, 0);
  auto run = b.run();
  ASSERT_EQ(run.conversations.size(), 6u);
  auto one = [&](const char* client) {
    auto v = by_client(run, client);
    EXPECT_EQ(v.size(), 1u) << client;
    return v.empty() ? Conversation{} : *v[0];
  };
  EXPECT_EQ(one("10.0.0.1:40001").conn_state, ConnState::kREJ);
  EXPECT_EQ(one("10.0.0.1:40001").history, "Sr");
  EXPECT_EQ(one("10.0.0.1:40002").conn_state, ConnState::kS0);
  EXPECT_EQ(one("10.0.0.1:40002").history, "S");
  EXPECT_EQ(one("10.0.0.1:40003").conn_state, ConnState::kRSTO);
  EXPECT_EQ(one("10.0.0.1:40003").history, "ShAR");
  EXPECT_EQ(one("10.0.0.1:40004").conn_state, ConnState::kRSTR);
  EXPECT_EQ(one("10.0.0.1:40004").history, "ShAr");
  EXPECT_EQ(one("10.0.0.1:40005").conn_state, ConnState::kRSTOS0);
  EXPECT_EQ(one("10.0.0.1:40005").history, "SR");
  EXPECT_EQ(one("10.0.0.1:40006").conn_state, ConnState::kSH);
  EXPECT_EQ(one("10.0.0.1:40006").history, "SF");
}

TEST(ConversationTest, PortReuseStartsANewConversation) {
  Builder b;
  full_connection(b, 1.0, 40010, 100);
  full_connection(b, 5.0, 40010, 90000);  // same socket pair, new SYN after the close
  auto run = b.run();
  auto v = by_client(run, "10.0.0.1:40010");
  ASSERT_EQ(v.size(), 2u);
  for (const auto* c : v) {
    EXPECT_EQ(c->conn_state, ConnState::kSF);
    EXPECT_EQ(c->client.packets, 5u);
    EXPECT_EQ(c->server.packets, 4u);
  }
  EXPECT_EQ(v[0]->first_ns, at(1.0));
  EXPECT_EQ(v[1]->first_ns, at(5.0));
}

// 16 history letters are kept; a longer history is cut and says so. Here: 100
// retransmissions and 100 zero windows per side give T/t and W/w at the 1st, 10th and
// 100th occurrence, and the server's first pure ACK an 'a': 5 + 13 letters.
TEST(ConversationTest, LongHistoryIsCutAndSaysSo) {
  Builder b;
  const char* c = "10.0.0.1";
  const char* s = "10.0.0.2";
  b.tcp(1.0, c, 40030, s, 80, kSyn, 100, 0);
  b.tcp(1.1, s, 80, c, 40030, kSyn | kAck, 500, 101);
  b.tcp(1.2, c, 40030, s, 80, kAck, 101, 501);
  b.tcp(1.3, c, 40030, s, 80, kAck, 101, 501, 50);
  b.tcp(1.4, s, 80, c, 40030, kAck, 501, 151, 50);
  for (int i = 0; i < 100; ++i) {
    b.tcp(2.0 + i * 0.01, c, 40030, s, 80, kAck, 101, 551, 50);  // the same segments again
    b.tcp(2.005 + i * 0.01, s, 80, c, 40030, kAck, 501, 151, 50);
  }
  for (int i = 0; i < 100; ++i) {
    b.tcp(4.0 + i * 0.01, c, 40030, s, 80, kAck, 151, 551, 0, 0);  // zero windows
    b.tcp(4.005 + i * 0.01, s, 80, c, 40030, kAck, 551, 151, 0, 0);
  }
  auto run = b.run();
  ASSERT_EQ(run.conversations.size(), 1u);
  EXPECT_EQ(run.conversations[0].history, "ShADdTtTtTtWawWw");  // then "WwWw" cut
  EXPECT_TRUE(run.conversations[0].history_truncated);
  EXPECT_EQ(run.conversations[0].client.packets, 203u);  // SYN, ACK, data, 100 + 100

  Builder short_one;
  full_connection(short_one, 1.0, 40031);
  EXPECT_FALSE(short_one.run().conversations[0].history_truncated);
}

// Zeek's tcp_close_delay: after both FINs, late packets within the delay still count
// on the closed connection; a packet after it starts a new (midstream) conversation.
TEST(ConversationTest, CloseDelayEndsAClosedConnection) {
  Builder b;
  full_connection(b, 1.0, 40020);                                  // last packet at 1.8
  b.tcp(4.8, "10.0.0.1", 40020, "10.0.0.2", 80, kAck, 202, 802);   // 3 s later: same one
  b.tcp(10.0, "10.0.0.1", 40020, "10.0.0.2", 80, kAck, 202, 802);  // 5.2 s later: new
  auto run = b.run();
  auto v = by_client(run, "10.0.0.1:40020");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0]->client.packets, 6u);
  EXPECT_EQ(v[0]->conn_state, ConnState::kSF);
  EXPECT_EQ(v[0]->last_ns, at(1.7));  // the close; the late ACK does not extend it
  EXPECT_EQ(v[1]->client.packets + v[1]->server.packets, 1u);
  EXPECT_EQ(v[1]->conn_state, ConnState::kOTH);
  EXPECT_EQ(v[1]->first_ns, at(10.0));

  ConversationOptions longer;
  longer.tcp_close_delay_ns = 10'000'000'000ull;
  auto joined = b.run(longer);
  ASSERT_EQ(by_client(joined, "10.0.0.1:40020").size(), 1u);
  EXPECT_EQ(by_client(joined, "10.0.0.1:40020")[0]->client.packets, 7u);
}

// read_capture() counts on a worker thread: an exception thrown by the emit callback
// there ends the run and reaches the caller, with no thread left behind.
TEST(ConversationTest, EmitErrorsOnTheWorkerReachTheCaller) {
  Builder b;
  for (int i = 0; i < 3000; ++i) {  // each conversation times out before the next starts
    b.udp(70.0 * i, "10.0.0.1", std::uint16_t(20000 + i % 7), "10.0.0.53", 53, 10);
  }
  auto reader = CaptureReader::from_memory(b.w.bytes());
  ASSERT_TRUE(reader);
  int emitted = 0;
  ConversationTable table({}, [&](const Conversation&) {
    if (++emitted == 100) throw std::runtime_error("output failed");
  });
  CaptureStats stats;
  EXPECT_THROW(read_capture(**reader, table, stats), std::runtime_error);
  EXPECT_EQ(emitted, 100);
}

TEST(ConversationTest, RetransmissionAndZeroWindowLetters) {
  Builder b;
  const char* c = "10.0.0.1";
  const char* s = "10.0.0.2";
  b.tcp(1.0, c, 40020, s, 80, kSyn, 100, 0);
  b.tcp(1.1, s, 80, c, 40020, kSyn | kAck, 500, 101);
  b.tcp(1.2, c, 40020, s, 80, kAck, 101, 501);
  b.tcp(1.3, c, 40020, s, 80, kAck, 101, 501, 50);
  b.tcp(1.4, c, 40020, s, 80, kAck, 101, 501, 50);  // the same segment again: 'T'
  auto run = b.run();
  ASSERT_EQ(run.conversations.size(), 1u);
  EXPECT_EQ(run.conversations[0].history, "ShADT");
  EXPECT_EQ(run.conversations[0].conn_state, ConnState::kS1);
  EXPECT_EQ(run.conversations[0].client.payload_bytes, 100u) << "retransmissions count";
}

TEST(ConversationTest, MidstreamTrafficUsesPortsAndFirstPacket) {
  Builder b;
  b.tcp(1.0, "10.0.0.3", 50000, "10.0.0.2", 443, kAck | kPsh, 1, 1, 10);
  b.tcp(1.1, "10.0.0.2", 443, "10.0.0.3", 50000, kAck | kPsh, 1, 11, 20);
  b.tcp(2.0, "10.0.0.2", 443, "10.0.0.4", 50001, kAck | kPsh, 1, 1, 5);  // server speaks first
  b.tcp(2.1, "10.0.0.4", 50001, "10.0.0.2", 443, kAck | kPsh, 1, 6, 7);
  auto run = b.run();
  auto first = by_client(run, "10.0.0.3:50000");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0]->evidence, Evidence::kFirstPacket);
  EXPECT_EQ(first[0]->history, "Dd");
  EXPECT_EQ(first[0]->conn_state, ConnState::kOTH);
  auto second = by_client(run, "10.0.0.4:50001");
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0]->evidence, Evidence::kLikelyServerPort);  // 443: Zeek flips, '^'
  EXPECT_EQ(second[0]->history, "^dD");
  EXPECT_EQ(second[0]->server, (DirectionStats{1, 45, 5}));
}

TEST(ConversationTest, SynAckFirstFlipsRoles) {
  Builder b;
  b.tcp(1.0, "10.0.0.2", 80, "10.0.0.1", 40030, kSyn | kAck, 500, 101);
  b.tcp(1.1, "10.0.0.1", 40030, "10.0.0.2", 80, kAck, 101, 501);
  auto run = b.run();
  ASSERT_EQ(run.conversations.size(), 1u);
  EXPECT_EQ(run.conversations[0].pair.first.to_string(), "10.0.0.1:40030");
  EXPECT_EQ(run.conversations[0].evidence, Evidence::kHandshake);
  EXPECT_EQ(run.conversations[0].history, "^hA");
  EXPECT_EQ(run.conversations[0].conn_state, ConnState::kS1);
}

TEST(ConversationTest, UdpIdleTimeoutSplitsConversations) {
  Builder b;
  b.udp(10.0, "10.0.0.1", 41000, "10.0.0.53", 53, 30);
  b.udp(10.1, "10.0.0.53", 53, "10.0.0.1", 41000, 60);
  b.udp(100.0, "10.0.0.1", 41000, "10.0.0.53", 53, 30);  // 89.9 s later: a new conversation
  auto run = b.run();
  auto v = by_client(run, "10.0.0.1:41000");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0]->client, (DirectionStats{1, 58, 30}));
  EXPECT_EQ(v[0]->server, (DirectionStats{1, 88, 60}));
  EXPECT_EQ(v[0]->conn_state, ConnState::kSF);
  EXPECT_EQ(v[0]->history, "Dd");
  EXPECT_EQ(v[0]->evidence, Evidence::kFirstPacket);
  EXPECT_EQ(v[1]->conn_state, ConnState::kS0);
  EXPECT_EQ(v[1]->first_ns, at(100.0));

  ConversationOptions longer;
  longer.idle_timeout_ns = at(200);
  auto joined = b.run(longer);
  ASSERT_EQ(joined.conversations.size(), 1u);
  EXPECT_EQ(joined.conversations[0].client.packets, 2u);
}

TEST(ConversationTest, LikelyServerPortFlipsALoneReply) {
  Builder b;
  b.udp(1.0, "10.0.0.53", 53, "10.0.0.1", 41001, 40);  // a reply seen first
  auto run = b.run();
  ASSERT_EQ(run.conversations.size(), 1u);
  EXPECT_EQ(run.conversations[0].pair.first.to_string(), "10.0.0.1:41001");
  EXPECT_EQ(run.conversations[0].evidence, Evidence::kLikelyServerPort);
  EXPECT_EQ(run.conversations[0].history, "^d");
  EXPECT_EQ(run.conversations[0].conn_state, ConnState::kSHR);
}

TEST(ConversationTest, LowerPortGuessNeverOverrulesTheFirstPacket) {
  Builder b;
  b.udp(1.0, "10.0.0.1", 35000, "10.0.0.2", 40000, 10);  // two ephemeral ports
  b.udp(2.0, "10.0.0.3", 40001, "10.0.0.4", 35001, 10);
  auto run = b.run();
  ASSERT_EQ(by_client(run, "10.0.0.1:35000").size(), 1u);
  ASSERT_EQ(by_client(run, "10.0.0.3:40001").size(), 1u);
  for (const auto& c : run.conversations) EXPECT_EQ(c.evidence, Evidence::kFirstPacket);
}

TEST(ConversationTest, VlansSeparateConversations) {
  Builder b;
  b.vlans = {10};
  b.udp(1.0, "10.0.0.1", 41002, "10.0.0.9", 9000, 10);
  b.vlans = {20};
  b.udp(1.1, "10.0.0.1", 41002, "10.0.0.9", 9000, 10);
  b.vlans = {100, 200};  // QinQ
  b.udp(1.2, "10.0.0.1", 41002, "10.0.0.9", 9000, 10);
  b.udp(1.3, "10.0.0.9", 9000, "10.0.0.1", 41002, 10);
  auto run = b.run();
  auto v = by_client(run, "10.0.0.1:41002");
  ASSERT_EQ(v.size(), 3u);
  std::vector<std::uint32_t> vlans;
  for (const auto* c : v) vlans.push_back(c->vlan);
  std::sort(vlans.begin(), vlans.end());
  EXPECT_EQ(vlans, (std::vector<std::uint32_t>{10, 20, (100u << 12) | 200u}));
}

TEST(ConversationTest, Ipv6ExtensionHeadersAndFragments) {
  CaptureWriter w(CaptureWriter::kPcapNano);
  Packet syn{.src = v6("2001:db8::1"),
             .dst = v6("2001:db8::2"),
             .protocol = 6,
             .sport = 40040,
             .dport = 443,
             .flags = kSyn,
             .seq = 7,
             .ipv6_ext = {0, 60}};
  w.packet(at(1.0), frame(1, build_ip(syn)));
  // 3000 bytes of UDP payload over IPv6, fragmented: 3008 bytes of UDP in 3 fragments.
  Packet big{.src = v6("2001:db8::1"),
             .dst = v6("2001:db8::3"),
             .protocol = 17,
             .sport = 40041,
             .dport = 5000,
             .payload = 3000};
  auto frags = fragment(build_ip(big), 1232, 99);
  ASSERT_EQ(frags.size(), 3u);
  for (std::size_t i = 0; i < frags.size(); ++i) w.packet(at(2.0 + 0.01 * i), frame(1, frags[i]));
  // IPv4 fragments with options in the header.
  Packet big4{.src = v4("10.0.0.1"),
              .dst = v4("10.0.0.9"),
              .protocol = 17,
              .sport = 42000,
              .dport = 9999,
              .payload = 3000,
              .ipv4_options = 8,
              .ip_id = 4242};
  auto frags4 = fragment(build_ip(big4), 1480, 4242);
  ASSERT_EQ(frags4.size(), 3u);
  for (std::size_t i = 0; i < frags4.size(); ++i) w.packet(at(3.0 + 0.01 * i), frame(1, frags4[i]));
  // A later fragment whose first fragment never came.
  auto orphan = fragment(build_ip(big4), 1480, 5151);
  w.packet(at(4.0), frame(1, orphan[1]));
  auto run = run_capture(w.bytes());
  auto syn_conv = by_client(run, "[2001:db8::1]:40040");
  ASSERT_EQ(syn_conv.size(), 1u);
  EXPECT_EQ(syn_conv[0]->client, (DirectionStats{1, 40 + 16 + 20, 0}));
  EXPECT_EQ(syn_conv[0]->conn_state, ConnState::kS0);
  auto frag_conv = by_client(run, "[2001:db8::1]:40041");
  ASSERT_EQ(frag_conv.size(), 1u);
  // 3 packets; each has a 40-byte header and an 8-byte fragment header; payload 3000.
  EXPECT_EQ(frag_conv[0]->client, (DirectionStats{3, 3 * 48 + 3008, 3000}));
  auto frag4 = by_client(run, "10.0.0.1:42000");
  ASSERT_EQ(frag4.size(), 1u);
  EXPECT_EQ(frag4[0]->client, (DirectionStats{3, 3 * 28 + 3008, 3000}));
  EXPECT_EQ(run.stats.fragments, 4u);
  EXPECT_EQ(run.stats.dropped[std::size_t(DropReason::kOrphanFragment)], 1u);
  EXPECT_EQ(run.stats.decoded, 7u);
}

TEST(ConversationTest, IcmpEchoAndErrorsQuotingAPair) {
  CaptureWriter w(CaptureWriter::kPcapMicro);
  for (int i = 0; i < 2; ++i) {
    Packet req{.src = v4("10.0.0.1"),
               .dst = v4("10.0.0.2"),
               .protocol = 1,
               .payload = 56,
               .icmp_type = 8,
               .icmp_id = 7};
    Packet rep{.src = v4("10.0.0.2"),
               .dst = v4("10.0.0.1"),
               .protocol = 1,
               .payload = 56,
               .icmp_type = 0,
               .icmp_id = 7};
    w.packet(at(1.0 + i), frame(1, build_ip(req)));
    w.packet(at(1.5 + i), frame(1, build_ip(rep)));
  }
  Packet query{.src = v4("10.0.0.1"),
               .dst = v4("10.0.0.53"),
               .protocol = 17,
               .sport = 41003,
               .dport = 53,
               .payload = 30};
  const Bytes query_ip = build_ip(query);
  w.packet(at(5.0), frame(1, query_ip));
  Packet unreachable{.src = v4("10.0.0.53"),
                     .dst = v4("10.0.0.1"),
                     .protocol = 1,
                     .icmp_type = 3,
                     .icmp_code = 3,
                     .icmp_quote = Bytes(query_ip.begin(), query_ip.begin() + 28)};
  w.packet(at(5.1), frame(1, build_ip(unreachable)));
  auto run = run_capture(w.bytes());
  // The echo exchange, the DNS query, and the error as a conversation of its own (Zeek).
  ASSERT_EQ(run.conversations.size(), 3u);
  auto echo = by_client(run, "10.0.0.1:8");
  ASSERT_EQ(echo.size(), 1u);
  EXPECT_EQ(echo[0]->pair.transport, Transport::kIcmp);
  EXPECT_EQ(echo[0]->pair.second.to_string(), "10.0.0.2:0");
  EXPECT_EQ(echo[0]->client, (DirectionStats{2, 2 * 84, 2 * 56}));
  EXPECT_EQ(echo[0]->server, (DirectionStats{2, 2 * 84, 2 * 56}));
  auto dns = by_client(run, "10.0.0.1:41003");
  ASSERT_EQ(dns.size(), 1u);
  // The error is not the server's reply: no server packets, S0, the error noted.
  EXPECT_EQ(dns[0]->server, (DirectionStats{}));
  EXPECT_EQ(dns[0]->conn_state, ConnState::kS0);
  ASSERT_TRUE(dns[0]->icmp_error.has_value());
  EXPECT_EQ(dns[0]->icmp_error->name(), "port-unreachable");
  auto error = by_client(run, "10.0.0.53:3");
  ASSERT_EQ(error.size(), 1u);
  EXPECT_EQ(error[0]->pair.second.to_string(), "10.0.0.1:3");  // type 3, code 3
  EXPECT_EQ(error[0]->client, (DirectionStats{1, 20 + 8 + 28, 28}));
  EXPECT_EQ(run.stats.icmp_errors_matched, 1u);
}

TEST(ConversationTest, SnaplenDoesNotChangeByteCounts) {
  CaptureWriter w(CaptureWriter::kPcapMicro, 1, false, 96);
  Packet p{.src = v4("10.0.0.1"),
           .dst = v4("10.0.0.2"),
           .protocol = 6,
           .sport = 40050,
           .dport = 80,
           .flags = kAck,
           .payload = 1000,
           .tcp_options = 12};
  w.packet(at(1.0), frame(1, build_ip(p)));
  auto run = run_capture(w.bytes());
  ASSERT_EQ(run.conversations.size(), 1u);
  EXPECT_EQ(run.conversations[0].client, (DirectionStats{1, 1052, 1000}));
}

TEST(ConversationTest, MalformedPacketsAreCountedByReason) {
  CaptureWriter w(CaptureWriter::kPcapMicro);
  Packet good{.src = v4("10.0.0.1"), .dst = v4("10.0.0.2"), .protocol = 6, .sport = 1, .dport = 2};
  Bytes bad_ihl = build_ip(good);
  bad_ihl[0] = 0x43;
  w.packet(at(1), frame(1, bad_ihl));
  Bytes bad_doff = build_ip(good);
  bad_doff[20 + 12] = 0x20;
  w.packet(at(2), frame(1, bad_doff));
  w.packet(at(3), Bytes(10, 0));  // shorter than an Ethernet header
  Bytes arp = frame(1, build_ip(good));
  arp[12] = 0x08;
  arp[13] = 0x06;
  w.packet(at(4), arp);
  Packet esp = good;
  esp.protocol = 50;  // ESP: no ports (GRE, 47, is a tunnel now: tunnel_test.cpp)
  w.packet(at(5), frame(1, build_ip(esp)));
  Bytes cut = frame(1, build_ip(good));
  cut.resize(14 + 20 + 10);  // TCP header cut short (as a tiny snaplen would)
  w.packet(at(6), cut);
  auto run = run_capture(w.bytes());
  EXPECT_TRUE(run.conversations.empty());
  EXPECT_EQ(run.stats.packets, 6u);
  EXPECT_EQ(run.stats.decoded, 0u);
  EXPECT_EQ(run.stats.dropped[std::size_t(DropReason::kBadIpHeader)], 1u);
  EXPECT_EQ(run.stats.dropped[std::size_t(DropReason::kBadTransportHeader)], 1u);
  EXPECT_EQ(run.stats.dropped[std::size_t(DropReason::kTruncatedLink)], 1u);
  EXPECT_EQ(run.stats.dropped[std::size_t(DropReason::kNotIp)], 1u);
  EXPECT_EQ(run.stats.dropped[std::size_t(DropReason::kOtherProtocol)], 1u);
  EXPECT_EQ(run.stats.dropped[std::size_t(DropReason::kTruncatedTransport)], 1u);
}

TEST(ConversationTest, FullTableEmitsOldestEarlyAndDropsNothing) {
  Builder b;
  for (int i = 0; i < 40; ++i) {
    b.udp(1.0 + i * 0.01, "10.0.0.1", std::uint16_t(42000 + i), "10.0.0.9", 9000, 10);
  }
  for (int i = 0; i < 40; ++i) {  // replies to all: the early ones were evicted already
    b.udp(2.0 + i * 0.01, "10.0.0.9", 9000, "10.0.0.1", std::uint16_t(42000 + i), 10);
  }
  ConversationOptions small;
  small.max_conversations = 16;
  auto run = b.run(small);
  std::uint64_t packets = 0;
  for (const auto& c : run.conversations) packets += c.packets();
  EXPECT_EQ(packets, 80u) << "every packet is in some emitted conversation";
  EXPECT_GT(run.evicted_early, 0u);
  std::uint64_t early = 0;
  for (const auto& c : run.conversations) early += c.evicted_early;
  EXPECT_EQ(early, run.evicted_early);
  EXPECT_GE(run.conversations.size(), 40u);
}

TEST(ConversationTest, SctpInitIsAHandshake) {
  CaptureWriter w(CaptureWriter::kPcapMicro);
  Packet init{.src = v4("10.0.0.1"),
              .dst = v4("10.0.0.2"),
              .protocol = 132,
              .sport = 50500,
              .dport = 3868,
              .sctp_chunk = 1};
  Packet data{.src = v4("10.0.0.2"),
              .dst = v4("10.0.0.1"),
              .protocol = 132,
              .sport = 3868,
              .dport = 50500,
              .payload = 100,
              .sctp_chunk = 0};
  w.packet(at(1), frame(1, build_ip(init)));
  w.packet(at(2), frame(1, build_ip(data)));
  auto run = run_capture(w.bytes());
  ASSERT_EQ(run.conversations.size(), 1u);
  EXPECT_EQ(run.conversations[0].pair.to_string(), "sctp 10.0.0.1:50500, 10.0.0.2:3868");
  EXPECT_EQ(run.conversations[0].evidence, Evidence::kHandshake);
  // INIT: 12-byte common header + 20-byte chunk; DATA: 16-byte chunk header + 100.
  EXPECT_EQ(run.conversations[0].client, (DirectionStats{1, 52, 20}));
  EXPECT_EQ(run.conversations[0].server, (DirectionStats{1, 148, 116}));
}

}  // namespace
}  // namespace sockscope::testing
