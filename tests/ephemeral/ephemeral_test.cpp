// analyze_ephemeral on socket sets whose answers are worked out by hand from
// the kernel's rules (see include/sockscope/ephemeral.hpp).
#include "sockscope/ephemeral.hpp"

#include <gtest/gtest.h>

namespace sockscope {
namespace {

Endpoint ep(const char* text) { return *Endpoint::parse(text); }

PortUse tcp(const char* local, const char* remote, std::optional<bool> autobound = true,
            bool time_wait = false, std::uint64_t inode = 1) {
  return {Transport::kTcp,      false, time_wait, ep(local), ep(remote), autobound,
          time_wait ? 0 : inode};
}

EphemeralSettings ten_ports() {
  EphemeralSettings s;
  s.range = {40000, 40009};
  s.reserved = *EphemeralSettings::parse_port_list("40005");
  return s;
}

TEST(EphemeralTest, PortListSyntax) {
  auto ports = EphemeralSettings::parse_port_list("8080,9000-9010");
  ASSERT_TRUE(ports);
  EXPECT_EQ(ports->count(), 12u);
  EXPECT_TRUE((*ports)[9010]);
  EXPECT_EQ(EphemeralSettings::parse_port_list("")->count(), 0u);
  EXPECT_FALSE(EphemeralSettings::parse_port_list("9010-9000"));
  EXPECT_FALSE(EphemeralSettings::parse_port_list("80,x"));
  EXPECT_EQ(ten_ports().usable(), 9u);
}

TEST(EphemeralTest, PerDestinationCapacityBindHeldAndBindPool) {
  std::vector<PortUse> s = {
      {Transport::kTcp, true, false, ep("0.0.0.0:40001"), ep("0.0.0.0:0"), false, 10},
      tcp("127.0.0.1:40002", "127.0.0.1:80", false, false, 11),  // bind() then connect()
      tcp("127.0.0.1:40000", "127.0.0.1:80", true, false, 12),
      tcp("127.0.0.1:40003", "127.0.0.1:80", true, true),  // TIME_WAIT counts
      tcp("127.0.0.1:40004", "127.0.0.1:81", true, false, 13),
      tcp("127.0.0.1:40000", "127.0.0.1:81", true, false, 14),      // same port, other pair
      tcp("127.0.0.1:40001", "127.0.0.1:50000", false, false, 15),  // accepted child
      tcp("127.0.0.1:30000", "127.0.0.1:80", true, false, 16),      // outside the range
      {Transport::kUdp, false, false, ep("0.0.0.0:40006"), ep("0.0.0.0:0"), true, 20},
      {Transport::kUdp, false, false, ep("127.0.0.1:40007"), ep("0.0.0.0:0"), true, 21},
  };
  EphemeralReport r = analyze_ephemeral(s, ten_ports());
  EXPECT_EQ(r.bind_held, 2u);  // 40001 (listener) and 40002 (explicit bind)
  EXPECT_EQ(r.bind_pool.capacity, 9u);
  EXPECT_EQ(r.bind_pool.used, 5u);  // 40000-40004 all have an owner
  EXPECT_EQ(r.bind_pool.free(), 4u);
  ASSERT_EQ(r.destinations.size(), 4u);
  // Fullest first: the two TCP destinations (2 of 7), then UDP 127.0.0.1 (2 of 9).
  const auto& d80 = r.destinations[0];
  EXPECT_EQ(d80.transport, Transport::kTcp);
  EXPECT_EQ(d80.remote.to_string(), "127.0.0.1:80");
  EXPECT_EQ(d80.used, 2u);
  EXPECT_EQ(d80.time_wait, 1u);
  EXPECT_EQ(d80.capacity, 7u);
  EXPECT_EQ(d80.inodes, std::vector<std::uint64_t>{12});
  const auto& d81 = r.destinations[1];
  EXPECT_EQ(d81.remote.to_string(), "127.0.0.1:81");
  EXPECT_EQ(d81.used, 2u);
  EXPECT_EQ(d81.capacity, 7u);
  const auto& u1 = r.destinations[2];
  EXPECT_EQ(u1.transport, Transport::kUdp);
  EXPECT_EQ(u1.local_address.to_string(), "127.0.0.1");
  EXPECT_EQ(u1.used, 2u);  // its own 40007 and the wildcard's 40006
  EXPECT_EQ(u1.capacity, 9u);
  EXPECT_EQ(r.destinations[3].local_address.to_string(), "0.0.0.0");
  EXPECT_EQ(r.destinations[3].used, 1u);
  EXPECT_TRUE(r.autobound_known);
}

TEST(EphemeralTest, ExhaustionIsPerDestination) {
  EphemeralSettings s;
  s.range = {40000, 40003};
  std::vector<PortUse> socks;
  for (int p = 40000; p <= 40003; ++p) {
    std::string local = "10.0.0.1:" + std::to_string(p);
    socks.push_back(tcp(local.c_str(), "10.0.0.2:443"));
  }
  socks.push_back(tcp("10.0.0.1:40000", "10.0.0.2:8443"));
  EphemeralReport r = analyze_ephemeral(socks, s);
  ASSERT_EQ(r.destinations.size(), 2u);
  EXPECT_TRUE(r.destinations[0].exhausted());
  EXPECT_DOUBLE_EQ(r.destinations[0].utilization(), 1.0);
  EXPECT_EQ(r.destinations[1].used, 1u);
  EXPECT_FALSE(r.destinations[1].exhausted());
  EXPECT_EQ(r.bind_pool.free(), 0u);  // bind(0) is out although connect() is not
}

TEST(EphemeralTest, WithoutTheAutoboundBitListenerPortsMarkAcceptedSockets) {
  EphemeralSettings s;
  s.range = {40000, 40009};
  std::vector<PortUse> socks = {
      {Transport::kTcp, true, false, ep("127.0.0.1:40001"), ep("0.0.0.0:0"), std::nullopt, 1},
      tcp("127.0.0.1:40001", "127.0.0.1:40002", std::nullopt),  // accepted
      tcp("127.0.0.1:40002", "127.0.0.1:40001", std::nullopt),  // the client
  };
  EphemeralReport r = analyze_ephemeral(socks, s);
  EXPECT_FALSE(r.autobound_known);
  EXPECT_EQ(r.bind_held, 1u);
  ASSERT_EQ(r.destinations.size(), 1u);
  EXPECT_EQ(r.destinations[0].remote.to_string(), "127.0.0.1:40001");
  EXPECT_EQ(r.destinations[0].capacity, 9u);
}

TEST(EphemeralTest, ReadsThisNamespaceSysctls) {
  auto s = EphemeralSettings::read();
  if (!s) GTEST_SKIP() << s.error().what();
  auto host = EphemeralRange::read_host();
  ASSERT_TRUE(host);
  EXPECT_EQ(s->range, host->range);
  EXPECT_LE(s->usable(), s->range.size());
}

}  // namespace
}  // namespace sockscope
