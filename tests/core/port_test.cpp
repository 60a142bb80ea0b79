#include "sockscope/port.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "sockscope/transport.hpp"

namespace sockscope {
namespace {

TEST(PortGroupTest, BoundariesFromRfc6335) {
  EXPECT_EQ(group_of(0), PortGroup::kWellKnown);
  EXPECT_EQ(group_of(1023), PortGroup::kWellKnown);
  EXPECT_EQ(group_of(1024), PortGroup::kRegistered);
  EXPECT_EQ(group_of(49151), PortGroup::kRegistered);
  EXPECT_EQ(group_of(49152), PortGroup::kDynamic);
  EXPECT_EQ(group_of(65535), PortGroup::kDynamic);
  EXPECT_EQ(PortRange::of_group(PortGroup::kWellKnown).size(), 1024u);
  EXPECT_EQ(PortRange::of_group(PortGroup::kRegistered).size(), 48128u);
  EXPECT_EQ(PortRange::of_group(PortGroup::kDynamic).size(), 16384u);
  EXPECT_EQ(to_string(PortGroup::kWellKnown), "well-known");
  EXPECT_EQ(*parse_port_group("Dynamic"), PortGroup::kDynamic);
  EXPECT_EQ(*parse_port_group("ephemeral"), PortGroup::kDynamic);
  EXPECT_FALSE(parse_port_group("huge"));
}

TEST(PortRangeTest, Parse) {
  EXPECT_EQ(*PortRange::parse("443"), (PortRange{443, 443}));
  EXPECT_EQ(*PortRange::parse("6000-6063"), (PortRange{6000, 6063}));
  EXPECT_EQ(PortRange::parse("6000-6063")->to_string(), "6000-6063");
  EXPECT_EQ(PortRange::parse("6010-6000").error().code, Error::Code::kBadSyntax);
  auto bad = PortRange::parse("6000-70000");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().column, 6u);
  EXPECT_FALSE(PortRange::parse("-5"));
  EXPECT_FALSE(PortRange::parse("5-"));
  EXPECT_TRUE(PortRange::parse("6000-6063")->contains(6063));
  EXPECT_FALSE(PortRange::parse("6000-6063")->contains(6064));
}

TEST(EphemeralRangeTest, ParsesSysctlText) {
  EXPECT_EQ(*EphemeralRange::parse_sysctl("32768\t60999\n"), (PortRange{32768, 60999}));
  EXPECT_EQ(*EphemeralRange::parse_sysctl("  1024 65535"), (PortRange{1024, 65535}));
  EXPECT_FALSE(EphemeralRange::parse_sysctl("60999 32768"));
  EXPECT_FALSE(EphemeralRange::parse_sysctl("32768"));
  EXPECT_FALSE(EphemeralRange::parse_sysctl("32768 60999 5"));
  EXPECT_FALSE(EphemeralRange::parse_sysctl("a b"));
  EXPECT_EQ(EphemeralRange::iana().range, (PortRange{49152, 65535}));
  EXPECT_EQ(EphemeralRange::linux_default().range, (PortRange{32768, 60999}));
}

TEST(EphemeralRangeTest, ReadsTheHostSysctlLikeTheKernelReportsIt) {
  // Independent truth: the file itself, read and split by the test.
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  if (!in) GTEST_SKIP() << "no /proc/sys/net/ipv4/ip_local_port_range here";
  unsigned low = 0, high = 0;
  in >> low >> high;
  auto host = EphemeralRange::read_host();
  ASSERT_TRUE(host) << host.error().what();
  EXPECT_EQ(host->range.first, low);
  EXPECT_EQ(host->range.last, high);
}

TEST(EphemeralRangeTest, UnreadableFileIsAnErrorNamingThePath) {
  auto r = EphemeralRange::read_host("/nonexistent/ip_local_port_range");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("/nonexistent/ip_local_port_range"), std::string::npos);
}

TEST(TransportTest, NamesAndProtocolNumbers) {
  EXPECT_EQ(*parse_transport("TCP"), Transport::kTcp);
  EXPECT_EQ(*parse_transport("icmpv6"), Transport::kIcmp);
  EXPECT_FALSE(parse_transport("quic"));
  EXPECT_EQ(ip_protocol(Transport::kTcp, Family::kV4), 6);
  EXPECT_EQ(ip_protocol(Transport::kUdp, Family::kV6), 17);
  EXPECT_EQ(ip_protocol(Transport::kSctp, Family::kV4), 132);
  EXPECT_EQ(ip_protocol(Transport::kDccp, Family::kV4), 33);
  EXPECT_EQ(ip_protocol(Transport::kIcmp, Family::kV4), 1);
  EXPECT_EQ(ip_protocol(Transport::kIcmp, Family::kV6), 58);
  EXPECT_EQ(transport_of_protocol(58), Transport::kIcmp);
  EXPECT_FALSE(transport_of_protocol(47));
}

}  // namespace
}  // namespace sockscope
