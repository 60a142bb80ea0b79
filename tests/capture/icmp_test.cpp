// ICMP and ICMPv6 conversations as Zeek makes them, with expectations worked out by
// hand from Zeek's ICMP analyzer (ICMP4_counterpart/ICMP6_counterpart, one-way tuples)
// and its documented conn.log semantics: request/reply types pair into one conversation
// whose responder "port" is the reply type, the sender of the first packet is the
// originator (an advertisement's sender too), an ICMP error is a conversation of its own
// and is only noted on the conversation it quotes. Community IDs were computed from the
// Community ID v1 definition with Python's hashlib, independently of sockscope.
#include <gtest/gtest.h>

#include "capture/capture_test_util.hpp"

namespace sockscope::testing {
namespace {

Bytes quote_of(const Packet& p) {
  const Bytes ip = build_ip(p);
  const std::size_t header = p.src.is_v4() ? 20 : 40;
  return Bytes(ip.begin(), ip.begin() + std::ptrdiff_t(header + 8));
}

TEST(IcmpTest, EchoRequestAndReplyAreOneConversationWhateverTheIdentifier) {
  Builder b;
  b.icmp(1.0, "10.0.0.1", "10.0.0.2", 8, 0, 7);
  b.icmp(1.1, "10.0.0.2", "10.0.0.1", 0, 0, 7);
  b.icmp(2.0, "10.0.0.1", "10.0.0.2", 8, 0, 9);  // another ping process: same conversation
  b.icmp(2.1, "10.0.0.2", "10.0.0.1", 0, 0, 9);
  auto run = b.run();
  ASSERT_EQ(run.conversations.size(), 1u);
  const Conversation& c = run.conversations[0];
  EXPECT_EQ(c.pair.to_string(), "icmp 10.0.0.1:8, 10.0.0.2:0");
  EXPECT_EQ(c.client.packets, 2u);
  EXPECT_EQ(c.server.packets, 2u);
  EXPECT_EQ(c.evidence, Evidence::kFirstPacket);
  EXPECT_EQ(c.community_id(), "1:YcMyyWJfhc95EW1GfXt6jlZ3DiQ=");
}

// A capture that starts with the reply: Zeek makes its sender the originator, with the
// reply type as its "port" and the request type as the responder's; the Community ID
// is the request's (the spec maps both directions to one flow).
TEST(IcmpTest, ReplySeenFirstKeepsItsSenderAsOriginator) {
  Builder b;
  b.icmp(1.0, "10.0.0.2", "10.0.0.1", 0, 0, 7);
  b.icmp(2.0, "10.0.0.1", "10.0.0.2", 8, 0, 7);
  auto run = b.run();
  ASSERT_EQ(run.conversations.size(), 1u);
  const Conversation& c = run.conversations[0];
  EXPECT_EQ(c.pair.to_string(), "icmp 10.0.0.2:0, 10.0.0.1:8");
  EXPECT_EQ(c.client.packets, 1u);
  EXPECT_EQ(c.server.packets, 1u);
  EXPECT_EQ(c.community_id(), "1:YcMyyWJfhc95EW1GfXt6jlZ3DiQ=");
}

TEST(IcmpTest, Icmp6EchoRespondsWithTheReplyType) {
  Builder b;
  b.icmp(1.0, "2001:db8::1", "2001:db8::2", 128, 0, 1);
  b.icmp(1.1, "2001:db8::2", "2001:db8::1", 129, 0, 1);
  auto run = b.run();
  ASSERT_EQ(run.conversations.size(), 1u);
  EXPECT_EQ(run.conversations[0].pair.to_string(), "icmp [2001:db8::1]:128, [2001:db8::2]:129");
  EXPECT_EQ(run.conversations[0].community_id(), "1:u2vMS3HiWth2lIMKHB1fjELshpQ=");
}

// Neighbor Discovery: a solicitation and its advertisement are one conversation
// (135/136); the same exchange the other way round is another; an unsolicited
// advertisement's sender is its originator.
TEST(IcmpTest, NeighborDiscoveryDirectionsAreSeparateConversations) {
  Builder b;
  b.icmp(1.0, "fe80::1", "fe80::2", 135, 0);
  b.icmp(1.1, "fe80::2", "fe80::1", 136, 0);
  b.icmp(2.0, "fe80::2", "fe80::1", 135, 0);
  b.icmp(2.1, "fe80::1", "fe80::2", 136, 0);
  b.icmp(3.0, "fe80::3", "ff02::1", 136, 0);
  b.icmp(4.0, "fe80::9", "ff02::1", 134, 0);  // router advertisement
  auto run = b.run();
  ASSERT_EQ(run.conversations.size(), 4u);
  auto from1 = by_client(run, "[fe80::1]:135");
  ASSERT_EQ(from1.size(), 1u);
  EXPECT_EQ(from1[0]->pair.second.to_string(), "[fe80::2]:136");
  EXPECT_EQ(from1[0]->client.packets, 1u);
  EXPECT_EQ(from1[0]->server.packets, 1u);
  EXPECT_EQ(from1[0]->community_id(), "1:7IIPGNVAHI2udmsuJVpA3RMOAqc=");
  auto from2 = by_client(run, "[fe80::2]:135");
  ASSERT_EQ(from2.size(), 1u);
  EXPECT_EQ(from2[0]->pair.second.to_string(), "[fe80::1]:136");
  EXPECT_EQ(from2[0]->community_id(), "1:jXSMIMhnMomSaIrNtEPXqYE5Rc4=");
  auto unsolicited = by_client(run, "[fe80::3]:136");
  ASSERT_EQ(unsolicited.size(), 1u);
  EXPECT_EQ(unsolicited[0]->pair.second.to_string(), "[ff02::1]:135");
  auto router = by_client(run, "[fe80::9]:134");
  ASSERT_EQ(router.size(), 1u);
  EXPECT_EQ(router[0]->pair.second.to_string(), "[ff02::1]:133");
}

// UDP to a closed port: the port-unreachable is not the server's reply. The UDP
// conversation is S0 with no server packets and notes the error; the error is an ICMP
// conversation of its own from the host that sent it (type 3, code 3 as the ports).
TEST(IcmpTest, PortUnreachableIsNotAReply) {
  Builder b;
  Packet query{.src = v4("10.0.0.1"),
               .dst = v4("10.0.0.53"),
               .protocol = 17,
               .sport = 41003,
               .dport = 53,
               .payload = 30};
  b.udp(1.0, "10.0.0.1", 41003, "10.0.0.53", 53, 30);
  b.icmp(1.001, "10.0.0.53", "10.0.0.1", 3, 3, 0, quote_of(query));
  b.udp(2.0, "10.0.0.1", 41003, "10.0.0.53", 53, 30);  // the resolver tries again
  b.icmp(2.001, "10.0.0.53", "10.0.0.1", 3, 3, 0, quote_of(query));
  auto run = b.run();
  ASSERT_EQ(run.conversations.size(), 2u);
  auto dns = by_client(run, "10.0.0.1:41003");
  ASSERT_EQ(dns.size(), 1u);
  EXPECT_EQ(dns[0]->client, (DirectionStats{2, 2 * 58, 2 * 30}));
  EXPECT_EQ(dns[0]->server, (DirectionStats{}));
  EXPECT_EQ(dns[0]->conn_state, ConnState::kS0);
  EXPECT_EQ(dns[0]->history, "D");
  ASSERT_TRUE(dns[0]->icmp_error.has_value());
  EXPECT_EQ(dns[0]->icmp_error->name(), "port-unreachable");
  EXPECT_EQ(dns[0]->community_id(), "1:eGUViWoETO34ApBa9CHNfLzMYRs=");
  auto error = by_client(run, "10.0.0.53:3");
  ASSERT_EQ(error.size(), 1u);
  EXPECT_EQ(error[0]->pair.second.to_string(), "10.0.0.1:3");
  EXPECT_EQ(error[0]->client.packets, 2u);
  EXPECT_EQ(error[0]->server.packets, 0u);
  EXPECT_EQ(error[0]->community_id(), "1:hU5kv5z716jluxWWFToxDds0jv8=");  // one-way: not sorted
  EXPECT_EQ(run.stats.icmp_errors_matched, 2u);
}

// One-way types keep their direction and code: errors each way, and with another
// code, are separate conversations.
TEST(IcmpTest, ErrorsAreKeyedByDirectionAndCode) {
  Builder b;
  b.icmp(1.0, "10.0.0.1", "10.0.0.2", 3, 1);
  b.icmp(1.5, "10.0.0.1", "10.0.0.2", 3, 1);
  b.icmp(2.0, "10.0.0.2", "10.0.0.1", 3, 1);
  b.icmp(3.0, "10.0.0.1", "10.0.0.2", 3, 13);
  auto run = b.run();
  ASSERT_EQ(run.conversations.size(), 3u);
  auto forward = by_client(run, "10.0.0.1:3");
  ASSERT_EQ(forward.size(), 2u);
  std::uint64_t host_unreachable = 0, prohibited = 0;
  for (const auto* c : forward) {
    if (c->pair.second.port == 1) host_unreachable = c->client.packets;
    if (c->pair.second.port == 13) prohibited = c->client.packets;
  }
  EXPECT_EQ(host_unreachable, 2u);
  EXPECT_EQ(prohibited, 1u);
  EXPECT_EQ(by_client(run, "10.0.0.2:3").size(), 1u);
}

// A router's time-exceeded for a TCP SYN, and an ICMPv6 unreachable for a UDP
// datagram: noted on the quoted conversations with their names.
TEST(IcmpTest, ErrorNamesForIcmpAndIcmp6) {
  Builder b;
  Packet syn{.src = v4("10.0.0.1"),
             .dst = v4("192.0.2.9"),
             .protocol = 6,
             .sport = 40000,
             .dport = 443,
             .flags = kSyn};
  b.tcp(1.0, "10.0.0.1", 40000, "192.0.2.9", 443, kSyn, 100, 0);
  b.icmp(1.01, "10.0.0.254", "10.0.0.1", 11, 0, 0, quote_of(syn));
  Packet dgram{.src = v6("2001:db8::1"),
               .dst = v6("2001:db8::7"),
               .protocol = 17,
               .sport = 50000,
               .dport = 9999,
               .payload = 4};
  b.udp(2.0, "2001:db8::1", 50000, "2001:db8::7", 9999, 4);
  b.icmp(2.01, "2001:db8::7", "2001:db8::1", 1, 4, 0, quote_of(dgram));
  auto run = b.run();
  auto tcp = by_client(run, "10.0.0.1:40000");
  ASSERT_EQ(tcp.size(), 1u);
  EXPECT_EQ(tcp[0]->conn_state, ConnState::kS0);
  ASSERT_TRUE(tcp[0]->icmp_error.has_value());
  EXPECT_EQ(tcp[0]->icmp_error->name(), "ttl-exceeded");
  auto udp = by_client(run, "[2001:db8::1]:50000");
  ASSERT_EQ(udp.size(), 1u);
  ASSERT_TRUE(udp[0]->icmp_error.has_value());
  EXPECT_EQ(udp[0]->icmp_error->name(), "port-unreachable");
  EXPECT_TRUE(udp[0]->icmp_error->v6);
  EXPECT_EQ(by_client(run, "[2001:db8::7]:1").size(), 1u);
  EXPECT_EQ(IcmpError({3, 13, false}).name(), "admin-prohibited");
  EXPECT_EQ(IcmpError({2, 0, true}).name(), "packet-too-big");
}

}  // namespace
}  // namespace sockscope::testing
