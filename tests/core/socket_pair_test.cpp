// SocketPair: parsing forms, the direction-free key, and the role rule table.
#include "sockscope/socket_pair.hpp"

#include <gtest/gtest.h>

#include <unordered_set>

namespace sockscope {
namespace {

TEST(SocketPairTest, SeedExampleClientAndServer) {
  auto pair = SocketPair::parse("192.168.1.5:1099, 192.168.1.7:80");
  ASSERT_TRUE(pair) << pair.error().what();
  EXPECT_EQ(pair->transport, Transport::kTcp);
  Role role = pair->role();
  EXPECT_EQ(pair->endpoint(role.client).to_string(), "192.168.1.5:1099");
  EXPECT_EQ(pair->endpoint(role.server).to_string(), "192.168.1.7:80");
  EXPECT_EQ(role.evidence, Evidence::kWellKnownPort);
  EXPECT_EQ(explain(*pair, role),
            "port 80 is well-known, port 1099 is registered: 80 is the server's");
}

TEST(SocketPairTest, AcceptedForms) {
  const char* forms[] = {
      "192.168.1.5:1099, 192.168.1.7:80",        "192.168.1.5:1099,192.168.1.7:80",
      "192.168.1.5:1099 -> 192.168.1.7:80",      "192.168.1.5:1099->192.168.1.7:80",
      "192.168.1.5:1099 <-> 192.168.1.7:80",     "tcp 192.168.1.5:1099, 192.168.1.7:80",
      "TCP  192.168.1.5:1099 -> 192.168.1.7:80", "  192.168.1.5:1099 , 192.168.1.7:80  ",
      "192.168.1.5:1099 192.168.1.7:80",  // ss's columns
      "tcp 192.168.1.5:1099   192.168.1.7:80",
  };
  for (const char* f : forms) {
    auto pair = SocketPair::parse(f);
    ASSERT_TRUE(pair) << f << ": " << pair.error().what();
    EXPECT_EQ(pair->to_string(), "tcp 192.168.1.5:1099, 192.168.1.7:80") << f;
    // Fixed point through the canonical text.
    EXPECT_EQ(*SocketPair::parse(pair->to_string()), *pair);
  }
  auto udp = SocketPair::parse("udp [2001:db8::1]:5353 -> [ff02::fb]:5353");
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->transport, Transport::kUdp);
  EXPECT_EQ(udp->to_string(), "udp [2001:db8::1]:5353, [ff02::fb]:5353");
}

TEST(SocketPairTest, Errors) {
  struct Bad {
    const char* input;
    Error::Code code;
    std::size_t column;
  } bad[] = {
      {"", Error::Code::kEmpty, 0},
      {"   ", Error::Code::kEmpty, 0},
      {"192.168.1.5:1099", Error::Code::kBadSyntax, 17},
      {"192.168.1.5:1099, ", Error::Code::kEmpty, 18},
      {", 192.168.1.7:80", Error::Code::kEmpty, 1},
      {"quic 1.2.3.4:1, 5.6.7.8:2", Error::Code::kBadTransport, 1},
      {"192.168.1.5:1099, 192.168.1.7:70000", Error::Code::kOutOfRange, 31},
      {"1.2.3.4:1, [::1]:2", Error::Code::kMixedFamilies, 12},
      {"1.2.3.4:1 => 5.6.7.8:2", Error::Code::kBadSyntax, 11},
      // Three endpoints: the third is named, not the second blamed.
      {"10.0.0.1:1, 10.0.0.2:2, 10.0.0.3:3", Error::Code::kTrailingGarbage, 23},
      {"10.0.0.1:1 -> 10.0.0.2:2 -> 10.0.0.3:3", Error::Code::kTrailingGarbage, 26},
      // The transport glued on with ':' (not an IPv6 address wanting brackets).
      {"tcp:10.0.0.1:1099, 10.0.0.2:80", Error::Code::kBadSyntax, 4},
  };
  for (const auto& b : bad) {
    auto p = SocketPair::parse(b.input);
    ASSERT_FALSE(p) << b.input;
    EXPECT_EQ(p.error().code, b.code) << b.input << ": " << p.error().what();
    EXPECT_EQ(p.error().column, b.column) << b.input << ": " << p.error().what();
  }
}

TEST(SocketPairTest, CanonicalKeyAndHashAreDirectionFree) {
  auto ab = *SocketPair::parse("10.0.0.2:40000 -> 10.0.0.1:443");
  auto ba = ab.reversed();
  EXPECT_EQ(ab.canonical(), ba.canonical());
  EXPECT_EQ(ab.hash(), ba.hash());
  EXPECT_TRUE(ab.canonical().is_canonical());
  EXPECT_EQ(ab.canonical().first.to_string(), "10.0.0.1:443");
  // Different transport or port: different key.
  auto udp = ab;
  udp.transport = Transport::kUdp;
  EXPECT_NE(udp.hash(), ab.hash());
  // Many client ports to one server: all distinct (the seed's point).
  std::unordered_set<std::uint64_t> hashes;
  for (int port = 32768; port < 32768 + 10000; ++port) {
    SocketPair p = ab;
    p.first.port = Port(port);
    hashes.insert(p.hash());
  }
  EXPECT_EQ(hashes.size(), 10000u);
}

struct RoleCase {
  Port a, b;
  bool use_host_range;
  Side server;
  Evidence evidence;
};

TEST(SocketPairTest, RoleRuleTable) {
  const PortRange linux_range{32768, 60999};
  // Each row worked out by hand from the rule in the issue.
  const RoleCase cases[] = {
      {1099, 80, false, Side::kSecond, Evidence::kWellKnownPort},  // the seed
      {80, 1099, false, Side::kFirst, Evidence::kWellKnownPort},   // reversed
      {443, 51000, false, Side::kFirst, Evidence::kWellKnownPort},
      {22, 22, false, Side::kSecond, Evidence::kLowerPortGuess},  // tie: first is client
      {53, 123, false, Side::kFirst, Evidence::kLowerPortGuess},  // both well-known
      {8080, 50000, false, Side::kFirst, Evidence::kRegisteredVsEphemeral},
      {50000, 5432, false, Side::kSecond, Evidence::kRegisteredVsEphemeral},
      {8080, 40000, true, Side::kFirst, Evidence::kRegisteredVsEphemeral},  // host range
      {8080, 40000, false, Side::kFirst, Evidence::kLowerPortGuess},        // no host range: guess
      {40000, 50000, false, Side::kFirst, Evidence::kRegisteredVsEphemeral},
      {33000, 35000, true, Side::kFirst, Evidence::kLowerPortGuess},  // both host-ephemeral
      {2049, 3306, false, Side::kFirst, Evidence::kLowerPortGuess},
      {50000, 60000, false, Side::kFirst, Evidence::kLowerPortGuess},
      {61000, 33000, true, Side::kSecond, Evidence::kLowerPortGuess},  // both ephemeral
      {32772, 49919, true, Side::kFirst, Evidence::kLowerPortGuess},   // host range vs dynamic
      {32772, 49919, false, Side::kFirst, Evidence::kRegisteredVsEphemeral},  // IANA only
      {0, 65535, false, Side::kSecond, Evidence::kLowerPortGuess},  // port 0 serves nothing
  };
  for (const auto& c : cases) {
    SocketPair p{Transport::kTcp,
                 {*IpAddress::parse("10.0.0.1"), c.a},
                 {*IpAddress::parse("10.0.0.2"), c.b}};
    Role r = p.role(c.use_host_range ? std::optional(linux_range) : std::nullopt);
    EXPECT_EQ(r.server, c.server) << c.a << " vs " << c.b;
    EXPECT_EQ(r.client, other(c.server)) << c.a << " vs " << c.b;
    EXPECT_EQ(r.evidence, c.evidence) << c.a << " vs " << c.b;
  }
}

// Port 0 is never the server: no server waits on it, whatever the groups say.
TEST(SocketPairTest, PortZeroIsNeverTheServer) {
  for (const char* text : {"10.0.0.1:0, 10.0.0.2:5", "10.0.0.2:5, 10.0.0.1:0",
                           "10.0.0.1:0, 10.0.0.2:40000", "10.0.0.1:0, 10.0.0.2:8080"}) {
    auto p = *SocketPair::parse(text);
    const Role r = p.role(PortRange{32768, 60999});
    EXPECT_NE(p.endpoint(r.server).port, 0) << text;
    EXPECT_EQ(p.endpoint(r.client).port, 0) << text;
  }
}

// ICMP pairs carry type and code: RFC 792/4443 say who asks and who answers.
TEST(SocketPairTest, IcmpRolesByMessageType) {
  struct Case {
    const char* text;
    const char* client;
    std::string_view explained;
  } cases[] = {
      {"icmp 10.0.0.1:8 -> 10.0.0.2:0", "10.0.0.1", "ICMP type 8 (echo request) is a request"},
      {"icmp 10.0.0.2:0 -> 10.0.0.1:0", "10.0.0.1", "ICMP type 0 (echo reply) is a reply"},
      {"icmp 10.0.0.1:13, 10.0.0.2:0", "10.0.0.1", "(timestamp request)"},
      {"icmp [2001:db8::1]:128 -> [2001:db8::2]:0", "2001:db8::1", "(echo request)"},
      {"icmp [2001:db8::2]:129 -> [2001:db8::1]:0", "2001:db8::1", "(echo reply)"},
      {"icmp 10.0.0.9:3 -> 10.0.0.1:1", "10.0.0.9", "(destination unreachable) is neither"},
  };
  for (const auto& c : cases) {
    auto p = *SocketPair::parse(c.text);
    const Role r = p.role();
    EXPECT_EQ(r.evidence, Evidence::kIcmpType) << c.text;
    EXPECT_EQ(p.endpoint(r.client).address.to_string(), c.client) << c.text;
    EXPECT_NE(explain(p, r, std::nullopt).find(c.explained), std::string::npos)
        << c.text << ": " << explain(p, r, std::nullopt);
  }
  EXPECT_EQ(icmp_type_name(8, Family::kV4), "echo request");
  EXPECT_EQ(icmp_type_name(8, Family::kV6), "");  // not an ICMPv6 type
}

TEST(SocketPairTest, ExplainsHostRange) {
  auto p = *SocketPair::parse("10.0.0.1:8080, 10.0.0.2:40000");
  Role r = p.role(PortRange{32768, 60999});
  EXPECT_EQ(explain(p, r, PortRange{32768, 60999}),
            "port 8080 is registered, port 40000 is registered and in this host's ephemeral "
            "range 32768-60999: 8080 is the server's");
  EXPECT_EQ(to_string(r.evidence), "registered-vs-ephemeral");
}

}  // namespace
}  // namespace sockscope
