// The encoder against hand-computed bytes and values (RFC 7011 layouts worked by
// hand), read back through the test decoder.
#include <gtest/gtest.h>

#include <vector>

#include "ipfix/decoder.hpp"
#include "sockscope/connection_log.hpp"
#include "sockscope/ipfix.hpp"

namespace sockscope {
namespace {

struct Sent {
  std::vector<std::uint8_t> bytes;
  std::size_t records;
};

Conversation tcp_conversation() {
  Conversation c;
  c.pair = *SocketPair::parse("tcp 10.0.0.1:40000 10.0.0.2:80");
  c.first_ns = 1'500'000'000'123'456'789ull;  // 1500000000123 ms
  c.last_ns = 1'500'000'002'500'000'000ull;   // 1500000002500 ms
  c.client = {5, 300, 40};
  c.server = {4, 1000, 800};
  c.history = "ShADadFf";
  c.conn_state = ConnState::kSF;
  return c;
}

IpfixOptions fixed_clock(IpfixOptions o = {}) {
  o.clock = [] { return 1'700'000'000'000'000'000ull; };
  return o;
}

TEST(IpfixRecords, TwoUniflowsClientFirst) {
  FlowRecord r[2];
  ASSERT_EQ(flow_records(tcp_conversation(), false, r), 2u);
  EXPECT_EQ(r[0].pair.to_string(), "tcp 10.0.0.1:40000, 10.0.0.2:80");
  EXPECT_EQ(r[1].pair.to_string(), "tcp 10.0.0.2:80, 10.0.0.1:40000");
  EXPECT_EQ(r[0].start_ms, 1500000000123u);
  EXPECT_EQ(r[0].end_ms, 1500000002500u);
  EXPECT_EQ(r[0].octets, 300u);
  EXPECT_EQ(r[0].packets, 5u);
  EXPECT_EQ(r[1].octets, 1000u);
  EXPECT_EQ(r[1].packets, 4u);
  EXPECT_EQ(r[0].tcp_flags, 0x13);  // S, A, F
  EXPECT_EQ(r[1].tcp_flags, 0x13);  // SYN-ACK, ACK, FIN
  EXPECT_EQ(r[0].end_reason, IpfixEndReason::kEndOfFlow);
}

TEST(IpfixRecords, BiflowAndSilentDirection) {
  Conversation c = tcp_conversation();
  FlowRecord r[2];
  ASSERT_EQ(flow_records(c, true, r), 1u);
  EXPECT_EQ(r[0].reverse_octets, 1000u);
  EXPECT_EQ(r[0].reverse_packets, 4u);
  EXPECT_EQ(r[0].reverse_tcp_flags, 0x13);
  c.server = {};
  c.history = "S";
  ASSERT_EQ(flow_records(c, false, r), 1u);  // no record for a direction without packets
  EXPECT_EQ(r[0].tcp_flags, 0x02);
  EXPECT_EQ(r[0].end_reason, IpfixEndReason::kIdleTimeout);
}

TEST(IpfixRecords, IcmpTypeAndCodeInTheDestinationPort) {
  Conversation c;
  c.pair = *SocketPair::parse("icmp 10.0.0.1:8 10.0.0.2:0");  // echo request, reply
  c.client = {1, 84, 56};
  c.server = {1, 84, 56};
  FlowRecord r[2];
  ASSERT_EQ(flow_records(c, false, r), 2u);
  EXPECT_EQ(r[0].pair.second.port, 0x0800);
  EXPECT_EQ(r[1].pair.second.port, 0x0000);
  c.pair = *SocketPair::parse("icmp 10.0.0.1:3 10.0.0.2:3");  // port unreachable
  c.server = {};
  ASSERT_EQ(flow_records(c, false, r), 1u);
  EXPECT_EQ(r[0].pair.first.port, 0);
  EXPECT_EQ(r[0].pair.second.port, 0x0303);
}

TEST(IpfixRecords, FlagsAndEndReasonFromTheHistoryLetters) {
  Conversation c = tcp_conversation();
  // Client (upper case): S A D T F -> SYN ACK FIN; server: h a d c r -> SYN ACK RST. The
  // letters without flags (D d T c, and ^ for a flipped direction) add none.
  c.history = "^ShADadTcFr";
  FlowRecord r[2];
  ASSERT_EQ(flow_records(c, false, r), 2u);
  EXPECT_EQ(r[0].tcp_flags, 0x13);
  EXPECT_EQ(r[1].tcp_flags, 0x16);
  EXPECT_EQ(r[0].end_reason, IpfixEndReason::kEndOfFlow);
  EXPECT_EQ(r[1].end_reason, IpfixEndReason::kEndOfFlow);
  c.history = "ShADadr";  // a reset by the server alone ends the flow too
  ASSERT_EQ(flow_records(c, true, r), 1u);
  EXPECT_EQ(r[0].tcp_flags, 0x12);
  EXPECT_EQ(r[0].reverse_tcp_flags, 0x16);
  EXPECT_EQ(r[0].end_reason, IpfixEndReason::kEndOfFlow);
  c.history = "ShADad";  // no FIN or RST: silence ended it
  ASSERT_EQ(flow_records(c, false, r), 2u);
  EXPECT_EQ(r[0].end_reason, IpfixEndReason::kIdleTimeout);
  c.open = true;  // reported while it goes on
  ASSERT_EQ(flow_records(c, false, r), 2u);
  EXPECT_EQ(r[1].end_reason, IpfixEndReason::kActiveTimeout);
  c.evicted_early = true;  // the table was full: that comes first
  ASSERT_EQ(flow_records(c, false, r), 2u);
  EXPECT_EQ(r[0].end_reason, IpfixEndReason::kLackOfResources);
  // UDP: the letters are not TCP flags, and no letter ends a UDP flow.
  Conversation u = tcp_conversation();
  u.pair = *SocketPair::parse("udp 10.0.0.1:40000 10.0.0.2:53");
  u.history = "DdFR";
  ASSERT_EQ(flow_records(u, false, r), 2u);
  EXPECT_EQ(r[0].tcp_flags, 0);
  EXPECT_EQ(r[1].tcp_flags, 0);
  EXPECT_EQ(r[0].end_reason, IpfixEndReason::kIdleTimeout);
  // The outer VLAN id of a double-tagged frame; a single tag's own.
  u.vlan = 100 << 12 | 200;
  ASSERT_EQ(flow_records(u, false, r), 2u);
  EXPECT_EQ(r[0].vlan, 100);
  EXPECT_EQ(r[1].vlan, 100);
  u.vlan = 200;
  ASSERT_EQ(flow_records(u, true, r), 1u);
  EXPECT_EQ(r[0].vlan, 200);
}

TEST(IpfixRecords, IcmpBiflowCarriesTheClientsTypeAndCode) {
  Conversation c;
  c.pair = *SocketPair::parse("icmp [2001:db8::1]:128 [2001:db8::2]:129");  // echo, reply
  c.client = {2, 208, 128};
  c.server = {2, 208, 128};
  FlowRecord r[2];
  ASSERT_EQ(flow_records(c, true, r), 1u);
  EXPECT_EQ(r[0].pair.first.port, 0);
  EXPECT_EQ(r[0].pair.second.port, 128 << 8);
  EXPECT_EQ(r[0].reverse_packets, 2u);
  ASSERT_EQ(flow_records(c, false, r), 2u);
  EXPECT_EQ(r[1].pair.first.port, 0);
  EXPECT_EQ(r[1].pair.second.port, 129 << 8);  // the reply's type, code 0
}

// A connection log close of `pair` (local first), `role` its local side's.
ConnectionEvent close_of(const char* pair, LocalRole role) {
  ConnectionEvent e;
  e.kind = ConnectionEventKind::kClose;
  const SocketPair p = *SocketPair::parse(pair);
  e.record.transport = p.transport;
  e.record.local = p.first;
  e.record.remote = p.second;
  e.role = role;
  e.time_ns = 1'700'000'002'000'000'000;
  e.duration_ns = 2'000'000'000;
  return e;
}

TEST(IpfixRecords, ClosesWithoutCountersAreOneRecordClientFirst) {
  FlowRecord out[2];
  // A UDP socket (no counters in the kernel): the pair, its times, zero counts.
  const ConnectionEvent udp = close_of("udp 127.0.0.1:53 127.0.0.1:40000", LocalRole::kServer);
  ASSERT_EQ(flow_records(udp, false, out), 1u);
  EXPECT_EQ(out[0].pair.first.port, 40000);
  EXPECT_EQ(out[0].pair.second.port, 53);
  EXPECT_EQ(out[0].pair.transport, Transport::kUdp);
  EXPECT_EQ(out[0].packets, 0u);
  EXPECT_EQ(out[0].start_ms, 1'700'000'000'000u);
  EXPECT_EQ(out[0].end_ms, 1'700'000'002'000u);
  EXPECT_EQ(out[0].end_reason, IpfixEndReason::kEndOfFlow);
  // A close proven by a re-dump after lost events: lackOfResources.
  ConnectionEvent lost = close_of("tcp 10.0.0.1:40000 10.0.0.2:443", LocalRole::kClient);
  lost.lost = true;
  ASSERT_EQ(flow_records(lost, true, out), 1u);
  EXPECT_EQ(out[0].pair.first.port, 40000);
  EXPECT_EQ(out[0].end_reason, IpfixEndReason::kLackOfResources);
  EXPECT_EQ(out[0].reverse_packets, 0u);
  // No peer (an unconnected UDP socket, a listener): no flow.
  const ConnectionEvent unconnected = close_of("udp 0.0.0.0:5353 0.0.0.0:0", LocalRole::kUnknown);
  EXPECT_FALSE(has_flow(unconnected));
  EXPECT_EQ(flow_records(unconnected, false, out), 0u);
}

TEST(IpfixEncoder, TemplatesMessageBytes) {
  IpfixEncoder e(fixed_clock(), [](auto, auto) {});
  const auto m = e.templates_message(7);
  // 16 header + 4 set header + v4 (4 + 11 * 4) + v6 (48) + v4 vlan (52) + v6 vlan (52).
  ASSERT_EQ(m.size(), 220u);
  const std::vector<std::uint8_t> header = {0, 10, 0, 220, 0x65, 0x53, 0xf1, 0x00, 0,   0, 0,
                                            7, 0,  0, 0,   0,    0,    2,    0,    204, 1, 0};
  EXPECT_EQ(std::vector<std::uint8_t>(m.begin(), m.begin() + 22), header);
  IpfixOptions biflow = fixed_clock();
  biflow.biflow = true;
  // Three enterprise fields of 8 bytes more in each template.
  EXPECT_EQ(IpfixEncoder(biflow, [](auto, auto) {}).templates_message(0).size(), 220u + 96);
}

TEST(IpfixEncoder, DataRecordBytesAndSequence) {
  std::vector<Sent> sent;
  IpfixEncoder e(fixed_clock(), [&](auto m, auto n) { sent.push_back({{m.begin(), m.end()}, n}); });
  FlowRecord r[2];
  flow_records(tcp_conversation(), false, r);
  e.add(r[0]);
  e.add(r[1]);
  e.flush();
  e.add(r[0]);
  e.flush();
  ASSERT_EQ(sent.size(), 2u);
  ASSERT_EQ(sent[0].bytes.size(), 16u + 4 + 2 * 48);
  EXPECT_EQ(sent[0].records, 2u);
  const std::vector<std::uint8_t> first = {
      0,    10,   0, 116,  0x65, 0x53, 0xf1, 0x00, 0, 0, 0, 0,  // header, seq 0
      0,    0,    0, 0,    1,    0,    0,    100,               // domain, set 256
      0,    0,    1, 0x5d, 0x3e, 0xf7, 0x98, 0x7b,              // start 1500000000123
      0,    0,    1, 0x5d, 0x3e, 0xf7, 0xa1, 0xc4,              // end 1500000002500
      10,   0,    0, 1,    10,   0,    0,    2,                 // addresses
      0x9c, 0x40, 0, 80,   6,    0,    0x13,                    // ports, proto, flags
      0,    0,    0, 0,    0,    0,    1,    0x2c,              // 300 octets
      0,    0,    0, 0,    0,    0,    0,    5,    3};          // 5 packets, end 3
  EXPECT_EQ(std::vector<std::uint8_t>(sent[0].bytes.begin(), sent[0].bytes.begin() + 68), first);
  EXPECT_EQ(sent[1].bytes[11], 2);  // the second message follows 2 records
  EXPECT_EQ(e.sequence(), 3u);
}

TEST(IpfixEncoder, MessagesFitTheLimitAndCountRecords) {
  IpfixOptions o = fixed_clock();
  o.max_message = 256;  // (256 - 16 - 4) / 48: 4 IPv4 records per message
  o.domain = 42;
  std::vector<Sent> sent;
  IpfixEncoder e(o, [&](auto m, auto n) { sent.push_back({{m.begin(), m.end()}, n}); });
  FlowRecord r[2];
  flow_records(tcp_conversation(), false, r);
  for (int i = 0; i < 10; ++i) e.add(r[i % 2]);
  e.flush();
  ipfix::Decoder d;
  ASSERT_TRUE(d.decode(e.templates_message(0)));
  ASSERT_EQ(sent.size(), 3u);
  const std::uint32_t sequences[] = {0, 4, 8};
  const std::size_t counts[] = {4, 4, 2};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_LE(sent[i].bytes.size(), 256u);
    auto m = d.decode(sent[i].bytes);
    ASSERT_TRUE(m) << m.error().what();
    EXPECT_EQ((*m)[0].sequence, sequences[i]);
    EXPECT_EQ((*m)[0].domain, 42u);
    EXPECT_EQ((*m)[0].records, counts[i]);
  }
  ASSERT_EQ(d.records.size(), 10u);
  EXPECT_EQ(d.records[1].get(1), 1000u);
  EXPECT_EQ(d.records[1].get(7), 80u);
}

TEST(IpfixEncoder, MixedFamiliesAndVlansInOneMessage) {
  std::vector<Sent> sent;
  IpfixOptions o = fixed_clock();
  o.biflow = true;
  IpfixEncoder e(o, [&](auto m, auto n) { sent.push_back({{m.begin(), m.end()}, n}); });
  Conversation v6 = tcp_conversation();
  v6.pair = *SocketPair::parse("udp [2001:db8::1]:5353 [2001:db8::2]:53");
  v6.vlan = 100 << 12 | 200;  // outer 100, inner 200
  FlowRecord r[2];
  flow_records(tcp_conversation(), true, r);
  e.add(r[0]);
  flow_records(v6, true, r);
  e.add(r[0]);
  e.flush();
  ipfix::Decoder d;
  ASSERT_TRUE(d.decode(e.templates_message(0)));
  auto m = d.decode(sent.at(0).bytes);
  ASSERT_TRUE(m) << m.error().what();
  ASSERT_EQ(d.records.size(), 2u);
  EXPECT_EQ(d.records[0].template_id, 256 + 4);
  EXPECT_EQ(d.records[1].template_id, 256 + 1 + 2 + 4);
  EXPECT_EQ(d.records[1].get(58), 100u);
  EXPECT_EQ(d.records[1].get(4), 17u);
  EXPECT_EQ(d.records[1].fields.at({0, 27}).bytes[15], 1);
  EXPECT_EQ(d.records[0].get(1, 29305), 1000u);
  EXPECT_EQ(d.records[0].get(2, 29305), 4u);
}

TEST(IpfixDestination, ParsesAndRejects) {
  EXPECT_EQ(parse_ipfix_destination("udp://127.0.0.1:4739")->to_string(), "udp://127.0.0.1:4739");
  EXPECT_EQ(parse_ipfix_destination("tcp://[::1]:4739")->to_string(), "tcp://[::1]:4739");
  EXPECT_EQ(parse_ipfix_destination("udp://localhost:9995")->collector.to_string(),
            "127.0.0.1:9995");
  EXPECT_EQ(parse_ipfix_destination("file:/tmp/x.ipfix")->path, "/tmp/x.ipfix");
  for (const char* bad : {"udp://127.0.0.1:0", "sctp://127.0.0.1:4739", "127.0.0.1:4739",
                          "udp://127.0.0.1", "tcp://::1:4739", "file:", "udp://host.name:1"}) {
    auto d = parse_ipfix_destination(bad);
    EXPECT_FALSE(d) << bad;
    if (!d) {
      EXPECT_NE(d.error().what().find("IPFIX destination"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace sockscope
