// IpAddress: strict parsing, RFC 5952 formatting, and glibc's inet_pton/inet_ntop
// as an independent peer.
#include "sockscope/ip_address.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace sockscope {
namespace {

struct FormatCase {
  const char* input;
  const char* canonical;
};

// Canonical forms from RFC 5952 (sections 4.1-4.3, 5) and RFC 4291 2.2, by hand.
const FormatCase kFormatCases[] = {
    {"0.0.0.0", "0.0.0.0"},
    {"255.255.255.255", "255.255.255.255"},
    {"192.168.1.5", "192.168.1.5"},
    {"10.0.0.1", "10.0.0.1"},
    {"127.0.0.1", "127.0.0.1"},
    {"1.2.3.4", "1.2.3.4"},
    {"100.64.0.0", "100.64.0.0"},
    // RFC 5952 section 2 examples: all the same address.
    {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
    {"2001:0db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
    {"2001:db8::1:0:0:1", "2001:db8::1:0:0:1"},
    {"2001:db8::0:1:0:0:1", "2001:db8::1:0:0:1"},
    {"2001:0db8::1:0:0:1", "2001:db8::1:0:0:1"},
    {"2001:db8:0:0:1::1", "2001:db8::1:0:0:1"},
    {"2001:DB8:0:0:1::1", "2001:db8::1:0:0:1"},
    {"2001:0DB8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1"},
    // 4.1 leading zeros suppressed.
    {"2001:0db8::0001", "2001:db8::1"},
    {"2001:db8:aaaa:bbbb:cccc:dddd:eeee:0001", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1"},
    // 4.2.1 shorten as much as possible.
    {"2001:db8:0:0:0:0:2:1", "2001:db8::2:1"},
    {"2001:db8::0:1", "2001:db8::1"},
    // 4.2.2 a single 16-bit 0 field is not shortened.
    {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
    {"2001:db8::1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
    // 4.2.3 longest run; the first of equal runs.
    {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},
    {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
    {"1:0:0:2:0:0:3:4", "1::2:0:0:3:4"},
    {"0:0:1:0:0:0:0:2", "0:0:1::2"},
    // 4.3 lowercase.
    {"2001:DB8:ABCD::EF", "2001:db8:abcd::ef"},
    {"FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
    // Edges.
    {"::", "::"},
    {"::1", "::1"},
    {"1::", "1::"},
    {"0:0:0:0:0:0:0:0", "::"},
    {"0:0:0:0:0:0:0:1", "::1"},
    {"1:0:0:0:0:0:0:0", "1::"},
    {"fe80::", "fe80::"},
    {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
    {"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"},
    {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
    {"ff02::1:ff00:1", "ff02::1:ff00:1"},
    {"2001:db8:1::", "2001:db8:1::"},
    // 5: IPv4-mapped in mixed notation; other embedded forms in hex.
    {"::ffff:1.2.3.4", "::ffff:1.2.3.4"},
    {"::FFFF:192.0.2.1", "::ffff:192.0.2.1"},
    {"0:0:0:0:0:ffff:c000:0201", "::ffff:192.0.2.1"},
    {"::ffff:0.0.0.0", "::ffff:0.0.0.0"},
    {"::1.2.3.4", "::102:304"},
    {"64:ff9b::192.0.2.33", "64:ff9b::c000:221"},
    {"2001:db8::192.168.1.5", "2001:db8::c0a8:105"},
    {"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"},
    {"::ffff:0:1.2.3.4", "::ffff:0:102:304"},
    // Zones.
    {"fe80::1%eth0", "fe80::1%eth0"},
    {"FE80::1%eth0", "fe80::1%eth0"},
    {"fe80::1%2", "fe80::1%2"},
    {"fe80::1%br-lan.10", "fe80::1%br-lan.10"},
    {"fe80:0:0:0:0:0:0:1%wlp3s0", "fe80::1%wlp3s0"},
};

TEST(IpAddressTest, ParsesAndFormatsCanonically) {
  for (const auto& c : kFormatCases) {
    auto a = IpAddress::parse(c.input);
    ASSERT_TRUE(a.has_value()) << c.input << ": " << a.error().what();
    EXPECT_EQ(a->to_string(), c.canonical) << c.input;
    // Fixed point: parse(format(x)) == x.
    auto again = IpAddress::parse(a->to_string());
    ASSERT_TRUE(again.has_value()) << a->to_string();
    EXPECT_EQ(*again, *a) << c.input;
  }
}

struct ErrorCase {
  const char* input;
  Error::Code code;
  std::size_t column;
};

const ErrorCase kErrorCases[] = {
    {"", Error::Code::kEmpty, 0},
    {"1.2.3.04", Error::Code::kLeadingZero, 7},
    {"01.2.3.4", Error::Code::kLeadingZero, 1},
    {"1.2.3.256", Error::Code::kOutOfRange, 7},
    {"1.2.3.1000", Error::Code::kOutOfRange, 7},
    {"300.1.1.1", Error::Code::kOutOfRange, 1},
    {"1.2.3", Error::Code::kBadAddress, 6},
    {"1.2.3.", Error::Code::kBadAddress, 7},
    {"1..3.4", Error::Code::kBadAddress, 3},
    {"1.2.3.4.5", Error::Code::kTrailingGarbage, 8},
    {"1.2.3.4x", Error::Code::kTrailingGarbage, 8},
    {"1.2.3.-4", Error::Code::kBadAddress, 7},
    {" 1.2.3.4", Error::Code::kBadAddress, 1},
    {"localhost", Error::Code::kBadAddress, 1},
    {"1.2.3.4%eth0", Error::Code::kBadAddress, 8},
    {"1:2:3:4:5:6:7:8:9", Error::Code::kBadAddress, 17},
    {"1:2:3:4:5:6:7", Error::Code::kBadAddress, 1},
    {"1::2::3", Error::Code::kBadAddress, 5},
    {":1::2", Error::Code::kBadAddress, 1},
    {"1::2:", Error::Code::kBadAddress, 5},
    {"12345::1", Error::Code::kBadAddress, 1},
    {"2001:db8::g", Error::Code::kBadAddress, 11},
    {"fe80::1%", Error::Code::kBadAddress, 8},
    {"fe80::1%et h0", Error::Code::kBadAddress, 11},
    {"::ffff:1.2.3.04", Error::Code::kLeadingZero, 14},
    {"::ffff:1.2.3.256", Error::Code::kOutOfRange, 14},
    {"1:2:3:4:5:6:7:1.2.3.4", Error::Code::kBadAddress, 15},
    {"1:2:3:4:5:6:7:8::", Error::Code::kBadAddress, 1},
};

TEST(IpAddressTest, RejectsMalformedWithPosition) {
  for (const auto& c : kErrorCases) {
    auto a = IpAddress::parse(c.input);
    ASSERT_FALSE(a.has_value()) << c.input << " parsed as " << a->to_string();
    EXPECT_EQ(a.error().code, c.code) << c.input << ": " << a.error().what();
    EXPECT_EQ(a.error().column, c.column) << c.input << ": " << a.error().what();
    EXPECT_FALSE(a.error().message.empty());
  }
}

TEST(IpAddressTest, ErrorMessageNamesProblemAndPlace) {
  auto a = IpAddress::parse("1.2.3.04");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().what(), "leading zero in IPv4 octet at column 7: '04'");
}

TEST(IpAddressTest, AgreesWithInetPtonAndNtopOnRandomV4) {
  std::mt19937 rng(42);
  for (int i = 0; i < 2000; ++i) {
    std::uint32_t v = rng();
    in_addr in{htonl(v)};
    char text[INET_ADDRSTRLEN];
    ASSERT_NE(inet_ntop(AF_INET, &in, text, sizeof text), nullptr);
    auto a = IpAddress::parse(text);
    ASSERT_TRUE(a) << text;
    EXPECT_EQ(a->v4_value(), v);
    EXPECT_EQ(a->to_string(), text);
  }
}

TEST(IpAddressTest, AgreesWithInetPtonAndNtopOnRandomV6) {
  std::mt19937 rng(7);
  int compared = 0;
  for (int i = 0; i < 5000; ++i) {
    std::uint8_t bytes[16];
    // Sparse addresses so zero runs of every length occur.
    for (auto& b : bytes) b = (rng() % 3 == 0) ? std::uint8_t(rng()) : 0;
    in6_addr in;
    std::memcpy(&in, bytes, 16);
    char text[INET6_ADDRSTRLEN];
    ASSERT_NE(inet_ntop(AF_INET6, &in, text, sizeof text), nullptr);
    auto a = IpAddress::parse(text);
    ASSERT_TRUE(a) << text;
    ASSERT_EQ(std::memcmp(a->bytes().data(), bytes, 16), 0) << text;
    // glibc prints IPv4-compatible (::a.b.c.d) addresses in dotted form, which
    // RFC 5952 does not ask for; everything else must agree exactly.
    const bool v4_compatible = std::string_view(text).starts_with("::") &&
                               std::string_view(text).find('.') != std::string_view::npos &&
                               !a->is_v4_mapped();
    if (v4_compatible) continue;
    EXPECT_EQ(a->to_string(), text);
    ++compared;
  }
  EXPECT_GT(compared, 4000);
}

TEST(IpAddressTest, OrderingAndPredicates) {
  auto a = *IpAddress::parse("10.0.0.1");
  auto b = *IpAddress::parse("10.0.0.2");
  auto c = *IpAddress::parse("::1");
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);  // IPv4 sorts before IPv6
  EXPECT_TRUE(IpAddress::parse("127.9.9.9")->is_loopback());
  EXPECT_TRUE(c.is_loopback());
  EXPECT_TRUE(IpAddress::parse("::")->is_unspecified());
  EXPECT_TRUE(IpAddress::parse("0.0.0.0")->is_unspecified());
  EXPECT_EQ(IpAddress::parse("::ffff:10.0.0.1")->unmapped(), a);
  EXPECT_NE(*IpAddress::parse("fe80::1%eth0"), *IpAddress::parse("fe80::1%eth1"));
  EXPECT_EQ(IpAddress::parse("fe80::1%eth0")->without_zone(), *IpAddress::parse("fe80::1"));
}

TEST(IpPrefixTest, ContainsByCidr) {
  auto net = IpPrefix::parse("10.0.0.0/8");
  ASSERT_TRUE(net);
  EXPECT_TRUE(net->contains(*IpAddress::parse("10.255.1.2")));
  EXPECT_FALSE(net->contains(*IpAddress::parse("11.0.0.1")));
  EXPECT_TRUE(net->contains(*IpAddress::parse("::ffff:10.1.1.1")));
  auto v6 = IpPrefix::parse("2001:db8::/33");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains(*IpAddress::parse("2001:db8:7fff::1")));
  EXPECT_FALSE(v6->contains(*IpAddress::parse("2001:db8:8000::1")));
  EXPECT_FALSE(v6->contains(*IpAddress::parse("10.0.0.1")));
  auto host = IpPrefix::parse("127.0.0.1");
  ASSERT_TRUE(host);
  EXPECT_EQ(host->length(), 32u);
  EXPECT_FALSE(IpPrefix::parse("10.0.0.0/33"));
  EXPECT_FALSE(IpPrefix::parse("10.0.0.0/"));
  EXPECT_FALSE(IpPrefix::parse("10.0.0.0/08"));
  EXPECT_TRUE(IpPrefix::parse("0.0.0.0/0")->contains(*IpAddress::parse("8.8.8.8")));
}

}  // namespace
}  // namespace sockscope
