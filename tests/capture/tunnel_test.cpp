// Tunnels opened, with expectations worked out by hand: every kind's inner conversation
// equals the same traffic captured without the tunnel (pair, counts, state, history,
// Community ID) and names its tunnel; a UDP tunnel's outer conversation is counted too,
// with the outer IP lengths; nesting, the depth limit, truncated and looping headers
// end in counted reasons. The tshark comparisons are in tshark_tunnel_test.cpp.
#include <gtest/gtest.h>

#include <functional>

#include "capture/capture_test_util.hpp"
#include "capture/packet_loop.hpp"
#include "capture/tunnel_builder.hpp"

namespace sockscope::testing {
namespace {

// The inner traffic: a TCP connection (handshake, data, FIN close) and a UDP exchange.
std::vector<Packet> inner_traffic(bool ipv6) {
  const IpAddress c = ipv6 ? v6("2001:db8:1::1") : v4("10.1.0.1");
  const IpAddress s = ipv6 ? v6("2001:db8:1::2") : v4("10.1.0.2");
  auto tcp = [&](bool from_client, std::uint8_t flags, std::uint32_t seq, std::uint32_t ack,
                 std::uint32_t payload) {
    return Packet{.src = from_client ? c : s,
                  .dst = from_client ? s : c,
                  .protocol = 6,
                  .sport = std::uint16_t(from_client ? 40000 : 443),
                  .dport = std::uint16_t(from_client ? 443 : 40000),
                  .flags = flags,
                  .seq = seq,
                  .ack = ack,
                  .payload = payload};
  };
  Packet query{.src = c, .dst = s, .protocol = 17, .sport = 41000, .dport = 53, .payload = 30};
  Packet answer{.src = s, .dst = c, .protocol = 17, .sport = 53, .dport = 41000, .payload = 90};
  return {tcp(true, kSyn, 100, 0, 0),
          tcp(false, kSyn | kAck, 500, 101, 0),
          tcp(true, kAck, 101, 501, 0),
          tcp(true, kAck | kPsh, 101, 501, 200),
          tcp(false, kAck | kPsh, 501, 301, 700),
          tcp(true, kFin | kAck, 301, 1201, 0),
          tcp(false, kFin | kAck, 1201, 302, 0),
          tcp(true, kAck, 302, 1202, 0),
          query,
          answer};
}

using Wrap = std::function<Bytes(const Packet& inner, bool from_client)>;

CaptureRun run_wrapped(bool ipv6, const Wrap& wrap) {
  CaptureWriter w(CaptureWriter::kPcapNano);
  const auto packets = inner_traffic(ipv6);
  for (std::size_t i = 0; i < packets.size(); ++i) {
    const bool from_client = packets[i].src == packets[0].src;
    w.packet(at(1.0 + 0.1 * double(i)), wrap(packets[i], from_client));
  }
  return run_capture(w.bytes());
}

const Wrap kPlain = [](const Packet& p, bool) { return frame(1, build_ip(p)); };

// The inner conversations of `tunnelled` equal `plain`'s, and name `kind` at `depth`.
void expect_same_inside(const CaptureRun& plain, const CaptureRun& tunnelled, TunnelKind kind,
                        int depth) {
  for (const Conversation& want : plain.conversations) {
    const Conversation* got = nullptr;
    for (const Conversation& c : tunnelled.conversations) {
      if (c.pair == want.pair) got = &c;
    }
    ASSERT_NE(got, nullptr) << want.pair.to_string() << " in " << to_string(kind);
    EXPECT_EQ(got->client, want.client) << want.pair.to_string();
    EXPECT_EQ(got->server, want.server) << want.pair.to_string();
    EXPECT_EQ(got->conn_state, want.conn_state);
    EXPECT_EQ(got->history, want.history);
    EXPECT_EQ(got->first_ns, want.first_ns);
    EXPECT_EQ(got->last_ns, want.last_ns);
    EXPECT_EQ(got->community_id(), want.community_id());
    EXPECT_EQ(got->tunnel.kind, kind) << to_string(got->tunnel.kind);
    EXPECT_EQ(got->tunnel.depth, depth);
  }
}

// One kind of tunnel around IPv4 and IPv6 inner traffic.
struct Case {
  const char* name;
  TunnelKind kind;
  bool v6_inner;
  Wrap wrap;
  bool udp_outer;  // a UDP tunnel: the outer conversations are reported too
};

std::vector<Case> cases() {
  const auto eth = [](const Packet& p) { return frame(1, build_ip(p)); };
  const auto udp = [](const Bytes& data, std::uint16_t sport, std::uint16_t dport, bool fc) {
    return frame(1, carrier(fc ? "192.0.2.1" : "192.0.2.2", fc ? "192.0.2.2" : "192.0.2.1", 17,
                            data, sport, dport));
  };
  const auto ip = [](std::uint8_t protocol, const Bytes& data, bool v6_outer, bool fc) {
    const char* a = v6_outer ? "2001:db8:ff::1" : "192.0.2.1";
    const char* b = v6_outer ? "2001:db8:ff::2" : "192.0.2.2";
    return frame(1, carrier(fc ? a : b, fc ? b : a, protocol, data));
  };
  return {
      {"vxlan", TunnelKind::kVxlan, false,
       [=](const Packet& p, bool fc) {
         return udp(vxlan(7, eth(p)), fc ? 50001 : 50002, 4789, fc);
       },
       true},
      {"vxlan 8472", TunnelKind::kVxlan, true,
       [=](const Packet& p, bool fc) { return udp(vxlan(7, eth(p)), 50003, 8472, fc); }, true},
      {"vxlan-gpe", TunnelKind::kVxlanGpe, false,
       [=](const Packet& p, bool fc) { return udp(vxlan_gpe(1, build_ip(p)), 50004, 4790, fc); },
       true},
      {"geneve", TunnelKind::kGeneve, true,
       [=](const Packet& p, bool fc) { return udp(geneve(0x6558, 3, eth(p)), 50005, 6081, fc); },
       true},
      {"teredo", TunnelKind::kTeredo, true,
       [=](const Packet& p, bool fc) {
         return udp(teredo(build_ip(p), fc, !fc), fc ? 50006 : 3544, fc ? 3544 : 50006, fc);
       },
       true},
      {"gtp-u", TunnelKind::kGtpU, false,
       [=](const Packet& p, bool fc) {
         return udp(gtp_u(0x1234, build_ip(p), fc), 2152, 2152, fc);
       },
       true},
      {"mpls-udp", TunnelKind::kMplsUdp, false,
       [=](const Packet& p, bool fc) {
         return udp(mpls({16, 17}, build_ip(p)), 50007, 6635, fc);
       },
       true},
      {"gre", TunnelKind::kGre, false,
       [=](const Packet& p, bool fc) {
         return ip(47, gre(0x0800, build_ip(p), {.checksum = true, .key = 9, .sequence = 1}), false,
                   fc);
       },
       false},
      {"gre ethernet", TunnelKind::kGre, true,
       [=](const Packet& p, bool fc) { return ip(47, gre(0x6558, eth(p), {.key = 3}), true, fc); },
       false},
      {"erspan-i", TunnelKind::kErspanI, false,
       [=](const Packet& p, bool fc) { return ip(47, gre(0x88be, eth(p)), false, fc); }, false},
      {"erspan-ii", TunnelKind::kErspanII, false,
       [=](const Packet& p, bool fc) {
         return ip(47, gre(0x88be, erspan_ii(5, eth(p)), {.sequence = 4}), false, fc);
       },
       false},
      {"erspan-iii", TunnelKind::kErspanIII, true,
       [=](const Packet& p, bool fc) {
         return ip(47, gre(0x22eb, erspan_iii(5, eth(p), fc), {.sequence = 4}), false, fc);
       },
       false},
      {"ip-in-ip", TunnelKind::kIpInIp, false,
       [=](const Packet& p, bool fc) { return ip(4, build_ip(p), false, fc); }, false},
      {"6in4", TunnelKind::k6In4, true,
       [=](const Packet& p, bool fc) { return ip(41, build_ip(p), false, fc); }, false},
      {"4in6", TunnelKind::k4In6, false,
       [=](const Packet& p, bool fc) { return ip(4, build_ip(p), true, fc); }, false},
      {"6in6", TunnelKind::k6In6, true,
       [=](const Packet& p, bool fc) { return ip(41, build_ip(p), true, fc); }, false},
      {"pim-register", TunnelKind::kPimRegister, false,
       [=](const Packet& p, bool fc) { return ip(103, pim_register(build_ip(p)), false, fc); },
       false},
      {"mpls in gre", TunnelKind::kGre, false,
       [=](const Packet& p, bool fc) {
         return ip(47, gre(0x8847, mpls({100}, build_ip(p))), false, fc);
       },
       false},
  };
}

TEST(TunnelTest, EveryKindGivesTheInnerConversationsAsWithoutIt) {
  for (const Case& k : cases()) {
    SCOPED_TRACE(k.name);
    const CaptureRun plain = run_wrapped(k.v6_inner, kPlain);
    const CaptureRun tunnelled = run_wrapped(k.v6_inner, k.wrap);
    ASSERT_EQ(plain.conversations.size(), 2u);
    expect_same_inside(plain, tunnelled, k.kind, 1);
    EXPECT_EQ(tunnelled.stats.packets, 10u);
    EXPECT_EQ(tunnelled.stats.dropped_total(), 0u);
    EXPECT_EQ(tunnelled.stats.tunnelled[std::size_t(k.kind)], 10u);
    for (std::uint64_t n : tunnelled.stats.inner_dropped) EXPECT_EQ(n, 0u);
    std::uint64_t outer_packets = 0;
    for (const Conversation& c : tunnelled.conversations) {
      if (c.tunnel.kind == TunnelKind::kNone) {
        EXPECT_EQ(c.pair.transport, Transport::kUdp);
        outer_packets += c.packets();
      }
    }
    EXPECT_EQ(outer_packets, k.udp_outer ? 10u : 0u);
  }
}

// The tunnel record: the outer header of the packet that opened the conversation.
TEST(TunnelTest, TunnelNamesTheOuterPairAndOuterBytesCountOnTheOuterConversation) {
  const Case vx = cases()[0];
  const CaptureRun run = run_wrapped(false, vx.wrap);
  auto tcp = by_client(run, "10.1.0.1:40000");
  ASSERT_EQ(tcp.size(), 1u);
  const Tunnel& t = tcp[0]->tunnel;
  EXPECT_EQ(t.to_string(), "vxlan udp 192.0.2.1:50001 -> 192.0.2.2:4789");
  EXPECT_EQ(t.outer_protocol, 17);
  ASSERT_TRUE(t.outer_pair().has_value());
  // The client's VXLAN flow: 5 TCP packets (4 of 40 bytes, one with 200) and the query
  // (58 bytes); each inside 20 (IP) + 8 (UDP) + 8 (VXLAN) + 14 (Ethernet) = 50 more.
  auto outer = by_client(run, "192.0.2.1:50001");
  ASSERT_EQ(outer.size(), 1u);
  EXPECT_EQ(outer[0]->client.packets, 5u + 1u);
  EXPECT_EQ(outer[0]->client.ip_bytes, 4u * 40 + 240 + 58 + 6u * 50);
  EXPECT_EQ(outer[0]->client.payload_bytes, 4u * 40 + 240 + 58 + 6u * 22);
  EXPECT_EQ(outer[0]->server.packets, 0u);  // the replies come from another source port

  const Case g = cases()[7];
  auto gre_run = run_wrapped(false, g.wrap);
  auto inside = by_client(gre_run, "10.1.0.1:40000");
  ASSERT_EQ(inside.size(), 1u);
  EXPECT_EQ(inside[0]->tunnel.to_string(), "gre 192.0.2.1 -> 192.0.2.2");
  EXPECT_FALSE(inside[0]->tunnel.outer_pair().has_value());
}

TEST(TunnelTest, MplsPppoeAndNshAreLayersNotTunnels) {
  const auto eth_mpls = [](const Packet& p, bool) {
    return ethernet(0x8847, mpls({16, 17, 18}, build_ip(p)), {5});
  };
  const auto pw = [](const Packet& p, bool) {  // a pseudowire: control word, Ethernet
    Bytes cw = {0, 0, 0, 0};
    const Bytes f = frame(1, build_ip(p));
    cw.insert(cw.end(), f.begin(), f.end());
    return ethernet(0x8847, mpls({16}, cw));
  };
  const auto pppoe = [](const Packet& p, bool) {
    return ethernet(0x8864, pppoe_session(0x2a, build_ip(p)));
  };
  const auto nsh_eth = [](const Packet& p, bool) {
    return ethernet(0x894f, nsh(p.src.is_v4() ? 1 : 2, build_ip(p)));  // next: IPv4, IPv6
  };
  for (bool ipv6 : {false, true}) {
    const CaptureRun plain = run_wrapped(ipv6, kPlain);
    int shim = 0;
    for (const Wrap& wrap : {Wrap(eth_mpls), Wrap(pw), Wrap(pppoe), Wrap(nsh_eth)}) {
      SCOPED_TRACE(::testing::Message() << "shim " << shim++ << (ipv6 ? " over IPv6" : ""));
      const CaptureRun shimmed = run_wrapped(ipv6, wrap);
      ASSERT_EQ(shimmed.conversations.size(), 2u);
      expect_same_inside(plain, shimmed, TunnelKind::kNone, 0);
    }
  }
  CaptureWriter w(CaptureWriter::kPcapNano);
  w.packet(at(1), ethernet(0x8864, {0x11, 0, 0, 0x2a, 0, 6, 0xc0, 0x21, 9, 1, 0, 4}));  // LCP
  const CaptureRun lcp = run_capture(w.bytes());
  EXPECT_EQ(lcp.stats.dropped[std::size_t(DropReason::kNotIp)], 1u);
}

// VXLAN inside GRE: the GRE tunnel's inner UDP is the VXLAN conversation (depth 1),
// the TCP inside VXLAN is at depth 2 and names the VXLAN pair.
TEST(TunnelTest, NestedTunnels) {
  const auto nested = [](const Packet& p, bool fc) {
    const Bytes inner_udp =
        carrier("172.16.0.1", "172.16.0.2", 17, vxlan(3, frame(1, build_ip(p))), 51000, 4789);
    return frame(1, carrier(fc ? "192.0.2.1" : "192.0.2.2", fc ? "192.0.2.2" : "192.0.2.1", 47,
                            gre(0x0800, inner_udp)));
  };
  const CaptureRun plain = run_wrapped(false, kPlain);
  const CaptureRun run = run_wrapped(false, nested);
  expect_same_inside(plain, run, TunnelKind::kVxlan, 2);
  auto middle = by_client(run, "172.16.0.1:51000");
  ASSERT_EQ(middle.size(), 1u);
  EXPECT_EQ(middle[0]->tunnel.kind, TunnelKind::kGre);
  EXPECT_EQ(middle[0]->tunnel.depth, 1);
  EXPECT_EQ(middle[0]->client.packets, 10u);
  auto tcp = by_client(run, "10.1.0.1:40000");
  ASSERT_EQ(tcp.size(), 1u);
  EXPECT_EQ(tcp[0]->tunnel.to_string(), "vxlan udp 172.16.0.1:51000 -> 172.16.0.2:4789");
  EXPECT_EQ(run.stats.tunnelled[std::size_t(TunnelKind::kGre)], 10u);
  EXPECT_EQ(run.stats.tunnelled[std::size_t(TunnelKind::kVxlan)], 10u);
}

Packet udp_packet() {
  return Packet{.src = v4("10.9.0.1"),
                .dst = v4("10.9.0.2"),
                .protocol = 17,
                .sport = 1234,
                .dport = 5678,
                .payload = 4};
}

// GRE in GRE in ...: kMaxTunnelDepth layers open; one more is tunnel-too-deep. VXLAN in
// VXLAN likewise, where the outer packets count and the too-deep inside is noted.
TEST(TunnelTest, DepthLimitStopsNestingAndCountsIt) {
  for (std::size_t depth : {kMaxTunnelDepth, kMaxTunnelDepth + 1}) {
    Bytes ip = build_ip(udp_packet());
    for (std::size_t i = 0; i < depth; ++i)
      ip = carrier("192.0.2.1", "192.0.2.2", 47, gre(0x0800, ip));
    Bytes vx = build_ip(udp_packet());
    for (std::size_t i = 0; i < depth; ++i) {
      vx = carrier("192.0.2.1", "192.0.2.2", 17, vxlan(1, frame(1, vx)), std::uint16_t(50000 + i),
                   4789);
    }
    CaptureWriter w(CaptureWriter::kPcapNano);
    w.packet(at(1), frame(1, ip));
    w.packet(at(2), frame(1, vx));
    const CaptureRun run = run_capture(w.bytes());
    const bool too_deep = depth > kMaxTunnelDepth;
    EXPECT_EQ(run.stats.dropped[std::size_t(DropReason::kTunnelTooDeep)], too_deep ? 1u : 0u);
    EXPECT_EQ(run.stats.inner_dropped[std::size_t(DropReason::kTunnelTooDeep)], too_deep ? 1u : 0u);
    // Within the limit: the innermost UDP (reached twice) and the 4 VXLAN outers; past
    // it, 5 outer UDP packets and no inside.
    EXPECT_EQ(by_client(run, "10.9.0.1:1234").size(), too_deep ? 0u : 1u);
    EXPECT_EQ(run.conversations.size(), kMaxTunnelDepth + 1);
  }
}

// Cut and damaged tunnel headers: the outer UDP packet still counts (its inside is
// noted by reason); a GRE-only record is dropped by reason. Looping shims (an MPLS
// stack without a bottom, NSH inside NSH) stop at the layer limit.
TEST(TunnelTest, TruncatedDamagedAndLoopingHeadersAreCounted) {
  CaptureWriter w(CaptureWriter::kPcapNano, 1, false, 14 + 20 + 8 + 4);  // snaplen: 4 of 8
  w.packet(at(1), frame(1, carrier("192.0.2.1", "192.0.2.2", 17,
                                   vxlan(1, frame(1, build_ip(udp_packet()))), 50000, 4789)));
  w.packet(at(2), frame(1, carrier("192.0.2.1", "192.0.2.2", 47,
                                   gre(0x0800, build_ip(udp_packet()),
                                       {.checksum = true, .key = 1, .sequence = 2}))));
  const CaptureRun cut = run_capture(w.bytes());
  EXPECT_EQ(cut.conversations.size(), 1u);
  EXPECT_EQ(cut.stats.inner_dropped[std::size_t(DropReason::kTruncatedTunnel)], 1u);
  EXPECT_EQ(cut.stats.dropped[std::size_t(DropReason::kTruncatedTunnel)], 1u);

  CaptureWriter d(CaptureWriter::kPcapNano);
  Bytes no_flag = vxlan(1, frame(1, build_ip(udp_packet())));
  no_flag[0] = 0;  // VXLAN without its I flag
  d.packet(at(1), frame(1, carrier("192.0.2.1", "192.0.2.2", 17, no_flag, 50000, 4789)));
  d.packet(at(2), frame(1, carrier("192.0.2.1", "192.0.2.2", 47, {0x00, 0x00, 0x08})));  // 3 bytes
  Bytes v2 = gre(0x0800, build_ip(udp_packet()));
  v2[1] = 2;  // GRE version 2 does not exist
  d.packet(at(3), frame(1, carrier("192.0.2.1", "192.0.2.2", 47, v2)));
  Bytes loop;
  for (int i = 0; i < 40; ++i) loop.insert(loop.end(), {0, 0x10, 0, 64});  // no bottom of stack
  d.packet(at(4), ethernet(0x8847, loop));
  Bytes nsh_loop = build_ip(udp_packet());
  for (int i = 0; i < 20; ++i) nsh_loop = nsh(4, nsh_loop);
  d.packet(at(5), ethernet(0x894f, nsh_loop));
  const CaptureRun damaged = run_capture(d.bytes());
  EXPECT_EQ(damaged.stats.inner_dropped[std::size_t(DropReason::kBadTunnelHeader)], 1u);
  // 3 bytes of GRE (the IP length says so: damage, not a snaplen) and GRE version 2.
  EXPECT_EQ(damaged.stats.dropped[std::size_t(DropReason::kBadTunnelHeader)], 2u);
  EXPECT_EQ(damaged.stats.dropped[std::size_t(DropReason::kTunnelTooDeep)], 2u);
  EXPECT_EQ(damaged.stats.packets, 5u);
  EXPECT_EQ(damaged.stats.decoded + damaged.stats.dropped_total(), 5u);
}

// UDP on a tunnel's port that is not one: Teredo's port carrying something else is
// plain UDP; a GTP-U echo request has no inside and nothing is missing.
TEST(TunnelTest, TunnelPortsCarryingOtherThingsArePlainUdp) {
  CaptureWriter w(CaptureWriter::kPcapNano);
  w.packet(at(1), frame(1, carrier("192.0.2.1", "192.0.2.2", 17, {1, 2, 3, 4, 5}, 3544, 40000)));
  w.packet(at(2), frame(1, carrier("192.0.2.1", "192.0.2.3", 17,
                                   {0x32, 0x01, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0}, 2152, 2152)));
  const CaptureRun run = run_capture(w.bytes());
  EXPECT_EQ(run.conversations.size(), 2u);
  for (std::uint64_t n : run.stats.inner_dropped) EXPECT_EQ(n, 0u);
  std::uint64_t tunnels = 0;
  for (std::uint64_t n : run.stats.tunnelled) tunnels += n;
  EXPECT_EQ(tunnels, 0u);
}

// The table finds a VXLAN record's outer conversation through its inner one (a hint
// kept with the inner flow). The hint goes stale while the inner TCP connection stays
// open: its outer conversation ends by the idle timeout, found by the next outer packet
// (a sweep before it left the flow live) and by a sweep, and its record is reused by
// another flow. Each outer conversation must still be counted as without the hint.
TEST(TunnelTest, OuterConversationsEndAndBeginAgainUnderOneInnerConnection) {
  const Packet inner{.src = v4("10.1.0.1"),
                     .dst = v4("10.1.0.2"),
                     .protocol = 6,
                     .sport = 40000,
                     .dport = 443,
                     .flags = kAck,
                     .seq = 1000,
                     .ack = 1,
                     .payload = 100};
  CaptureWriter w(CaptureWriter::kPcapNano);
  const auto vxlan_at = [&](double t) {
    w.packet(at(t), frame(1, carrier("192.0.2.1", "192.0.2.2", 17,
                                     vxlan(7, frame(1, build_ip(inner))), 50001, 4789)));
  };
  // An open TCP connection elsewhere (never ends by silence) whose packets make the
  // table sweep, and a UDP exchange that takes a freed record.
  const auto other_tcp_at = [&](double t) {
    w.packet(at(t), frame(1, build_ip(Packet{.src = v4("10.9.9.9"),
                                             .dst = v4("10.9.9.8"),
                                             .protocol = 6,
                                             .sport = 1000,
                                             .dport = 2000,
                                             .flags = kAck,
                                             .seq = 1,
                                             .ack = 1})));
  };
  vxlan_at(1.0);
  vxlan_at(1.1);
  vxlan_at(1.2);
  other_tcp_at(58.0);  // sweeps (the default 5 s close delay sets the pace): 56.8 s idle
  vxlan_at(62.0);      // 60.8 s since 1.2: the first outer conversation is over
  vxlan_at(62.1);
  w.packet(at(200.0), frame(1, build_ip(Packet{.src = v4("10.9.9.7"),
                                               .dst = v4("10.9.9.6"),
                                               .protocol = 17,
                                               .sport = 3000,
                                               .dport = 4000,
                                               .payload = 10})));  // sweeps the second
  vxlan_at(200.1);
  vxlan_at(200.2);
  other_tcp_at(300.0);  // sweeps the third and the UDP exchange
  vxlan_at(300.1);
  // Both loops: the file pipeline (keys made on the reading thread) and the one-thread
  // loop of live captures.
  for (const bool pipelined : {true, false}) {
    SCOPED_TRACE(pipelined ? "pipelined" : "one thread");
    const CaptureRun run = run_capture(w.bytes(), {}, !pipelined);
    // Inside: 20 (IP) + 20 (TCP) + 100 bytes; outside 50 more (IP, UDP, VXLAN, Ethernet).
    const auto outer = by_client(run, "192.0.2.1:50001");
    ASSERT_EQ(outer.size(), 4u);
    const double first[] = {1.0, 62.0, 200.1, 300.1}, last[] = {1.2, 62.1, 200.2, 300.1};
    const std::uint64_t packets[] = {3, 2, 2, 1};
    for (std::size_t i = 0; i < 4; ++i) {
      EXPECT_EQ(outer[i]->first_ns, at(first[i])) << i;
      EXPECT_EQ(outer[i]->last_ns, at(last[i])) << i;
      EXPECT_EQ(outer[i]->client.packets, packets[i]) << i;
      EXPECT_EQ(outer[i]->client.ip_bytes, packets[i] * 190) << i;
      EXPECT_EQ(outer[i]->client.payload_bytes, packets[i] * (190 - 28)) << i;
      EXPECT_EQ(outer[i]->server, DirectionStats{}) << i;
      EXPECT_EQ(outer[i]->history, "D") << i;
      EXPECT_EQ(outer[i]->tunnel.kind, TunnelKind::kNone) << i;
    }
    const auto tcp = by_client(run, "10.1.0.1:40000");
    ASSERT_EQ(tcp.size(), 1u);
    EXPECT_EQ(tcp[0]->client.packets, 8u);
    EXPECT_EQ(tcp[0]->client.ip_bytes, 8u * 140);
    EXPECT_EQ(tcp[0]->first_ns, at(1.0));
    EXPECT_EQ(tcp[0]->last_ns, at(300.1));
    EXPECT_EQ(tcp[0]->tunnel.to_string(), "vxlan udp 192.0.2.1:50001 -> 192.0.2.2:4789");
    const auto udp = by_client(run, "10.9.9.7:3000");
    ASSERT_EQ(udp.size(), 1u);
    EXPECT_EQ(udp[0]->client.packets, 1u);
    EXPECT_EQ(run.conversations.size(), 4u + 1 + 1 + 1);
  }
}

}  // namespace
}  // namespace sockscope::testing
