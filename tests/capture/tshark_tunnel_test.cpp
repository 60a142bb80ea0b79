// Tunnels against tshark: real captures (tests/data/captures, from tcpdump's test
// suite) and captures built here for the kinds no small real one shows (Teredo, GTP-U,
// IP in IP, 6in4, MPLS over Ethernet, PPPoE with IP, NSH, nesting). Every TCP and UDP
// conversation, outer and inner, has tshark's packet counts per direction (-z conv),
// and every inner one tshark's Community ID with its packets and IP bytes (per-packet
// fields). Also: checksums as tshark validates them, and routing headers' final
// destinations as tshark's checksum validation implies them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "capture/capture_test_util.hpp"
#include "capture/tshark_oracle.hpp"
#include "capture/tunnel_builder.hpp"
#include "support/run_command.hpp"

namespace sockscope::testing {
namespace {

std::string data_path(const std::string& name) {
  return std::string(SOCKSCOPE_SOURCE_DIR) + "/tests/data/captures/" + name;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class TsharkTunnelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_tshark()) GTEST_SKIP() << "tshark is not installed (Debian: tshark)";
  }
  std::string temp(const std::string& name) {
    paths_.push_back(::testing::TempDir() + "/sockscope_" + std::to_string(::getpid()) + "_" +
                     name);
    return paths_.back();
  }
  void TearDown() override {
    if (!std::getenv("SOCKSCOPE_KEEP"))
      for (const auto& p : paths_) std::remove(p.c_str());
  }
  std::vector<std::string> paths_;
};

struct RealCase {
  const char* file;
  std::vector<std::string> tshark_args;
  std::size_t flows;        // conversations compared by Community ID
  TunnelKind kind;          // of the inner conversations
  std::uint64_t tunnelled;  // records with that kind opened (counted or not)
};

TEST_F(TsharkTunnelTest, RealCapturesAgreeWithTshark) {
  const std::vector<RealCase> cases = {
      {"geneve.pcap", {}, 2, TunnelKind::kGeneve, 39},
      {"vxlan.pcap", {}, 3, TunnelKind::kVxlan, 10},
      {"vxlan_port_8472.pcap", {"-d", "udp.port==8472,vxlan"}, 3, TunnelKind::kVxlan, 10},
      {"erspan-type-i-1.pcap", {}, 1, TunnelKind::kErspanI, 2},
      {"erspan-type-ii-1.pcap", {}, 0, TunnelKind::kErspanII, 1},
      {"erspan-type-iii-ft-0.pcap", {}, 1, TunnelKind::kErspanIII, 9},
      // GRE records: 10 ICMP, 8 + 8 keepalives, 2 CDP and 2 PIM inside.
      {"various_gre.pcap", {}, 1, TunnelKind::kGre, 30},
      {"mpls-over-udp.pcap", {}, 1, TunnelKind::kMplsUdp, 2},
      {"pppoe.pcap", {}, 0, TunnelKind::kNone, 0},
      {"pppoes.pcap", {}, 0, TunnelKind::kNone, 0},
      {"ipv6-srh-ext-header.pcap", {}, 1, TunnelKind::k6In6, 1},
  };
  for (const RealCase& k : cases) {
    SCOPED_TRACE(k.file);
    const std::string path = data_path(k.file);
    const CaptureRun run = run_capture(read_file(path));
    ASSERT_FALSE(run.open_error) << run.open_error->what();
    EXPECT_EQ(expect_agrees_with_tshark(run.conversations, path, k.tshark_args), k.flows);
    if (k.kind != TunnelKind::kNone) {
      EXPECT_EQ(run.stats.tunnelled[std::size_t(k.kind)], k.tunnelled);
      bool inner = false;
      for (const auto& c : run.conversations) inner |= c.tunnel.kind == k.kind;
      EXPECT_EQ(inner, k.flows > 0);
    }
    EXPECT_EQ(run.stats.decoded + run.stats.dropped_total(), run.stats.packets);
  }
}

// The inner flows of one kind: a TCP connection with data and a close, a UDP exchange
// and an ICMP echo, between addresses of their own (`net`: 10.net.0.x / 2001:db8:net::x).
std::vector<Packet> flows_in(int net, bool ipv6) {
  const std::string a =
      ipv6 ? "2001:db8:" + std::to_string(net) + "::1" : "10." + std::to_string(net) + ".0.1";
  const std::string b =
      ipv6 ? "2001:db8:" + std::to_string(net) + "::2" : "10." + std::to_string(net) + ".0.2";
  const IpAddress c = *IpAddress::parse(a), s = *IpAddress::parse(b);
  auto tcp = [&](bool up, std::uint8_t flags, std::uint32_t seq, std::uint32_t ack,
                 std::uint32_t n) {
    return Packet{.src = up ? c : s,
                  .dst = up ? s : c,
                  .protocol = 6,
                  .sport = std::uint16_t(up ? 40000 + net : 443),
                  .dport = std::uint16_t(up ? 443 : 40000 + net),
                  .flags = flags,
                  .seq = seq,
                  .ack = ack,
                  .payload = n};
  };
  std::vector<Packet> p = {tcp(true, kSyn, 1, 0, 0),
                           tcp(false, kSyn | kAck, 9, 2, 0),
                           tcp(true, kAck, 2, 10, 0),
                           tcp(true, kAck | kPsh, 2, 10, 300),
                           tcp(false, kAck | kPsh, 10, 302, 900),
                           tcp(true, kFin | kAck, 302, 910, 0),
                           tcp(false, kFin | kAck, 910, 303, 0),
                           tcp(true, kAck, 303, 911, 0)};
  p.push_back(
      Packet{.src = c, .dst = s, .protocol = 17, .sport = 41000, .dport = 53, .payload = 33});
  p.push_back(
      Packet{.src = s, .dst = c, .protocol = 17, .sport = 53, .dport = 41000, .payload = 99});
  Packet echo{.src = c, .dst = s, .protocol = std::uint8_t(ipv6 ? 58 : 1), .payload = 56};
  echo.icmp_type = ipv6 ? 128 : 8;
  echo.icmp_id = 3;
  Packet reply = echo;
  std::swap(reply.src, reply.dst);
  reply.icmp_type = ipv6 ? 129 : 0;
  p.push_back(echo);
  p.push_back(reply);
  return p;
}

// Frames for each kind built here, each around flows_in() of its own network.
TEST_F(TsharkTunnelTest, BuiltCapturesOfEveryKindAgreeWithTshark) {
  const auto udp4 = [](const Bytes& d, std::uint16_t sp, std::uint16_t dp, bool up) {
    return frame(
        1, carrier(up ? "192.0.2.1" : "192.0.2.2", up ? "192.0.2.2" : "192.0.2.1", 17, d, sp, dp));
  };
  const auto ip = [](std::uint8_t proto, const Bytes& d, bool v6_outer, bool up) {
    const char* x = v6_outer ? "2001:db8:ff::1" : "198.51.100.1";
    const char* y = v6_outer ? "2001:db8:ff::2" : "198.51.100.2";
    return frame(1, carrier(up ? x : y, up ? y : x, proto, d));
  };
  using Wrap = std::function<Bytes(const Packet&, bool)>;
  struct Kind {
    bool ipv6;
    Wrap wrap;
  };
  const std::vector<Kind> kinds = {
      {true,
       [&](const Packet& p, bool up) {
         return udp4(teredo(build_ip(p), !up, up), up ? 50000 : 3544, up ? 3544 : 50000, up);
       }},
      {false,
       [&](const Packet& p, bool up) { return udp4(gtp_u(77, build_ip(p), up), 2152, 2152, up); }},
      {true, [&](const Packet& p,
                 bool up) { return udp4(gtp_u(78, build_ip(p), false), 2152, 2152, up); }},
      {false, [&](const Packet& p, bool up) { return ip(4, build_ip(p), false, up); }},
      {true, [&](const Packet& p, bool up) { return ip(41, build_ip(p), false, up); }},
      {false, [&](const Packet& p, bool up) { return ip(4, build_ip(p), true, up); }},
      {true, [&](const Packet& p, bool up) { return ip(41, build_ip(p), true, up); }},
      {false,
       [&](const Packet& p, bool) {
         return ethernet(0x8847, mpls({20, 21}, build_ip(p)), {7});
       }},
      {true,
       [&](const Packet& p, bool) { return ethernet(0x8864, pppoe_session(9, build_ip(p))); }},
      {false,
       [&](const Packet& p, bool) { return ethernet(0x8864, pppoe_session(9, build_ip(p))); }},
      {false,
       [&](const Packet& p, bool up) {
         return udp4(vxlan(5, frame(1, build_ip(p))), up ? 50001 : 50002, 4789, up);
       }},
      {true, [&](const Packet& p,
                 bool up) { return udp4(geneve(0x86dd, 2, build_ip(p)), 50003, 6081, up); }},
      {false, [&](const Packet& p,
                  bool up) { return udp4(vxlan_gpe(4, nsh(1, build_ip(p))), 50004, 4790, up); }},
      {false,
       [&](const Packet& p, bool up) {
         return ip(47, gre(0x6558, frame(1, build_ip(p)), {.key = 1, .sequence = 2}), false, up);
       }},
      {false,
       [&](const Packet& p, bool up) {
         return ip(47, gre(0x88be, erspan_ii(3, frame(1, build_ip(p))), {.sequence = 1}), false,
                   up);
       }},
      {false,
       [&](const Packet& p, bool up) { return ip(103, pim_register(build_ip(p)), false, up); }},
      {true,
       [&](const Packet& p, bool up) {  // nested: VXLAN inside GRE inside IPv6
         const Bytes v =
             carrier("172.16.0.1", "172.16.0.2", 17, vxlan(9, frame(1, build_ip(p))), 51000, 4789);
         return ip(47, gre(0x0800, v), true, up);
       }},
      {false,
       [&](const Packet& p, bool up) {  // nested: GTP-U inside Geneve
         const Bytes g =
             carrier("172.16.1.1", "172.16.1.2", 17, gtp_u(5, build_ip(p), false), 2152, 2152);
         return udp4(geneve(0x0800, 0, g), 50005, 6081, up);
       }},
  };
  CaptureWriter w(CaptureWriter::kPcapNano);
  std::uint64_t t = 1'000'000'000;
  for (std::size_t k = 0; k < kinds.size(); ++k) {
    const auto flows = flows_in(int(k) + 1, kinds[k].ipv6);
    for (const Packet& p : flows) {
      w.packet(t += 1'000'000, kinds[k].wrap(p, p.src == flows[0].src));
    }
  }
  const std::string path = temp("tunnels.pcap");
  ASSERT_TRUE(w.write(path));
  const CaptureRun run = run_capture(w.bytes());
  EXPECT_EQ(run.stats.dropped_total(), 0u);
  for (std::uint64_t n : run.stats.inner_dropped) EXPECT_EQ(n, 0u);
  // Three inner flows per kind (TCP, UDP, ICMP): the outer UDP conversations (the nested
  // middles too) are compared by the conversation tables only.
  EXPECT_EQ(expect_agrees_with_tshark(run.conversations, path), 3 * kinds.size());
}

// tshark validates checksums (off by default there too): with verification on, the
// packets it calls bad are the ones counted bad here, and the rest keep their counts.
TEST_F(TsharkTunnelTest, BadChecksumsAreTheOnesTsharkFinds) {
  Builder b;
  for (int i = 0; i < 20; ++i) {
    const auto port = std::uint16_t(41000 + i);
    b.udp(1.0 + i, "10.0.0.1", port, "10.0.0.53", 53, 20 + std::uint32_t(i));
    if (i % 3 == 0) b.corrupt_last(14 + 20 + 6);  // UDP checksum
    b.tcp(1.5 + i, "10.0.0.1", port, "10.0.0.80", 80, kSyn, 100, 0);
    if (i % 4 == 0) b.corrupt_last(14 + 20 + 16);  // TCP checksum
    if (i % 5 == 0) b.corrupt_last(14 + 10);       // IPv4 header checksum
  }
  const std::string path = temp("checksums.pcap");
  ASSERT_TRUE(b.w.write(path));
  auto r =
      run_command({"tshark", "-n", "-r", path, "-o", "ip.check_checksum:TRUE", "-o",
                   "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-T", "fields", "-e",
                   "ip.checksum.status", "-e", "tcp.checksum.status", "-e", "udp.checksum.status"},
                  60);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::uint64_t bad_ip = 0, bad_transport = 0;
  for (const auto& line : lines(r.out)) {  // status 0: bad, 1: good
    std::istringstream in(line);
    std::string ip_status, transport_status;
    std::getline(in, ip_status, '\t');
    std::getline(in, transport_status);
    if (ip_status == "0") {
      ++bad_ip;
    } else if (transport_status.find('0') != std::string::npos) {
      ++bad_transport;
    }
  }
  ConversationOptions verify;
  verify.verify_checksums = true;
  const CaptureRun run = b.run(verify);
  EXPECT_EQ(bad_ip, 4u);
  EXPECT_EQ(run.stats.dropped[std::size_t(DropReason::kBadIpChecksum)], bad_ip);
  EXPECT_EQ(run.stats.bad_checksums, bad_transport);
  EXPECT_GT(bad_transport, 5u);
}

// Routing headers: tshark calls every checksum good, so the writer covered the final
// destination it names; sockscope keys the conversation by that same address.
TEST_F(TsharkTunnelTest, RoutingHeaderFinalDestinationIsTheChecksummedOne) {
  CaptureWriter w(CaptureWriter::kPcapNano);
  const std::vector<IpAddress> route = {v6("2001:db8::e"), v6("2001:db8::5")};
  std::vector<std::string> finals;
  for (std::uint8_t type : {0, 2, 4}) {
    for (std::uint8_t left : {0, 1}) {
      Packet p{.src = v6("2001:db8::1"),
               .dst = v6("2001:db8::a"),
               .protocol = 6,
               .sport = std::uint16_t(40000 + type * 2 + left),
               .dport = 80,
               .flags = kSyn,
               .ipv6_ext = {43},
               .routing_type = type,
               .segments_left = left};
      p.route = type == 2 ? std::vector<IpAddress>{route[0]} : route;
      w.packet(at(1.0 + type + left), frame(1, build_ip(p)));
    }
  }
  const std::string path = temp("routing.pcap");
  ASSERT_TRUE(w.write(path));
  auto r = run_command({"tshark", "-n", "-r", path, "-o", "tcp.check_checksum:TRUE", "-T", "fields",
                        "-e", "tcp.srcport", "-e", "tcp.checksum.status"},
                       60);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::size_t good = 0;
  for (const auto& line : lines(r.out)) good += line.ends_with("\t1");
  EXPECT_EQ(good, 6u) << r.out;
  const CaptureRun run = run_capture(w.bytes());
  // Segments left: type 0's last address, type 2's home address, segment routing's
  // segments[0]; none left: the header's destination.
  const std::map<std::uint16_t, std::string> want = {
      {40000, "2001:db8::a"}, {40001, "2001:db8::5"}, {40004, "2001:db8::a"},
      {40005, "2001:db8::e"}, {40008, "2001:db8::a"}, {40009, "2001:db8::e"}};
  ASSERT_EQ(run.conversations.size(), want.size());
  for (const auto& c : run.conversations) {
    EXPECT_EQ(c.pair.second.address.to_string(), want.at(c.pair.first.port)) << c.pair.to_string();
  }
}

}  // namespace
}  // namespace sockscope::testing
