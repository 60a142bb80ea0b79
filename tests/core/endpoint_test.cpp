// Endpoint: the error classes with their exact columns, and fixed points.
#include "sockscope/endpoint.hpp"

#include <gtest/gtest.h>

namespace sockscope {
namespace {

struct Case {
  const char* input;
  const char* canonical;
};

const Case kGood[] = {
    {"192.168.1.5:1099", "192.168.1.5:1099"},
    {"192.168.1.7:80", "192.168.1.7:80"},
    {"0.0.0.0:0", "0.0.0.0:0"},
    {"255.255.255.255:65535", "255.255.255.255:65535"},
    {"127.0.0.1:53", "127.0.0.1:53"},
    {"[2001:db8::1]:443", "[2001:db8::1]:443"},
    {"[2001:DB8:0:0:0:0:0:1]:443", "[2001:db8::1]:443"},
    {"[::1]:22", "[::1]:22"},
    {"[::]:0", "[::]:0"},
    {"[fe80::1%eth0]:22", "[fe80::1%eth0]:22"},
    {"[::ffff:192.0.2.1]:8080", "[::ffff:192.0.2.1]:8080"},
    {"[0:0:0:0:0:ffff:c000:201]:8080", "[::ffff:192.0.2.1]:8080"},
    {"[2001:db8:0:1:1:1:1:1]:65535", "[2001:db8:0:1:1:1:1:1]:65535"},
    {"10.0.0.1:49152", "10.0.0.1:49152"},
};

TEST(EndpointTest, ParsesAndFormatsCanonically) {
  for (const auto& c : kGood) {
    auto ep = Endpoint::parse(c.input);
    ASSERT_TRUE(ep) << c.input << ": " << ep.error().what();
    EXPECT_EQ(ep->to_string(), c.canonical);
    auto again = Endpoint::parse(ep->to_string());
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, *ep);
  }
}

TEST(EndpointTest, FieldsAndGroups) {
  auto ep = Endpoint::parse("192.168.1.5:1099");
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->port, 1099);
  EXPECT_EQ(ep->address.v4_value(), 0xc0a80105u);
  EXPECT_EQ(ep->group(), PortGroup::kRegistered);
  EXPECT_EQ(Endpoint::parse("1.1.1.1:1023")->group(), PortGroup::kWellKnown);
  EXPECT_EQ(Endpoint::parse("1.1.1.1:1024")->group(), PortGroup::kRegistered);
  EXPECT_EQ(Endpoint::parse("1.1.1.1:49151")->group(), PortGroup::kRegistered);
  EXPECT_EQ(Endpoint::parse("1.1.1.1:49152")->group(), PortGroup::kDynamic);
  EXPECT_EQ(Endpoint::parse("[fe80::1%eth0]:22")->address.zone(), "eth0");
}

struct Bad {
  const char* input;
  Error::Code code;
  std::size_t column;
  const char* what;  // exact one-line message
};

const Bad kBad[] = {
    {"192.168.1.5:70000", Error::Code::kOutOfRange, 13,
     "port out of range 0-65535 at column 13: '70000'"},
    {"1.2.3.04:80", Error::Code::kLeadingZero, 7, "leading zero in IPv4 octet at column 7: '04'"},
    {"2001:db8::1:443", Error::Code::kNeedBrackets, 1,
     "IPv6 address with a port needs brackets, e.g. [2001:db8::1]:443 at column 1: "
     "'2001:db8::1:443'"},
    {"[::1]", Error::Code::kMissingPort, 6, "missing port after ']' at column 6: ']'"},
    {"1.2.3.4:80x", Error::Code::kTrailingGarbage, 11,
     "unexpected character after port at column 11: 'x'"},
    {"", Error::Code::kEmpty, 0, "empty endpoint"},
    {"1.2.3.4", Error::Code::kMissingPort, 8,
     "missing ':port' after address at column 8: '1.2.3.4'"},
    {"1.2.3.4:", Error::Code::kMissingPort, 9, "missing port after ':' at column 9"},
    {"1.2.3.4:080", Error::Code::kLeadingZero, 9, "leading zero in port at column 9: '080'"},
    {"1.2.3.4:-1", Error::Code::kBadSyntax, 9, "expected a number for the port at column 9: '-'"},
    {"1.2.3.4:99999999999", Error::Code::kOutOfRange, 9,
     "port out of range 0-65535 at column 9: '99999999999'"},
    {"[::1]:65536", Error::Code::kOutOfRange, 7, "port out of range 0-65535 at column 7: '65536'"},
    {"[::1]x80", Error::Code::kTrailingGarbage, 6, "expected ':port' after ']' at column 6: 'x80'"},
    {"[::1:80", Error::Code::kBadSyntax, 1,
     "missing ']' after IPv6 address at column 1: '[::1:80'"},
    {"[1.2.3.4]:80", Error::Code::kBadAddress, 2,
     "brackets are only for IPv6 addresses at column 2: '1.2.3.4'"},
    {"::1", Error::Code::kMissingPort, 1,
     "missing port: write an IPv6 endpoint as [address]:port at column 1: '::1'"},
    {"[fe80::1%]:22", Error::Code::kBadAddress, 9, "empty IPv6 zone after '%' at column 9: '%'"},
    {"[2001:db8::g]:1", Error::Code::kBadAddress, 12,
     "unexpected character in IPv6 address at column 12: 'g'"},
    {"300.1.1.1:80", Error::Code::kOutOfRange, 1,
     "IPv4 octet out of range 0-255 at column 1: '300'"},
    {"1.2.3.4:80 ", Error::Code::kTrailingGarbage, 11,
     "unexpected character after port at column 11: ' '"},
};

TEST(EndpointTest, RejectsEveryErrorClassWithColumn) {
  for (const auto& b : kBad) {
    auto ep = Endpoint::parse(b.input);
    ASSERT_FALSE(ep) << b.input << " parsed as " << ep->to_string();
    EXPECT_EQ(ep.error().code, b.code) << b.input << ": " << ep.error().what();
    EXPECT_EQ(ep.error().column, b.column) << b.input << ": " << ep.error().what();
    EXPECT_EQ(ep.error().what(), b.what) << b.input;
  }
}

TEST(EndpointTest, ColumnOffsetShiftsPositions) {
  auto ep = Endpoint::parse("1.2.3.4:70000", 10);
  ASSERT_FALSE(ep);
  EXPECT_EQ(ep.error().column, 19u);
}

}  // namespace
}  // namespace sockscope
