// Community ID v1 against the specification's published example values (the
// same vectors Zeek's and other implementations' test suites use).
#include "sockscope/community_id.hpp"

#include <gtest/gtest.h>

#include "core/sha1.hpp"

namespace sockscope {
namespace {

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

TEST(Sha1Test, Fips180Vectors) {
  auto hex = [](std::array<std::uint8_t, 20> d) {
    std::string s;
    for (auto b : d) s += "0123456789abcdef"[b >> 4], s += "0123456789abcdef"[b & 15];
    return s;
  };
  auto h = [&](std::string_view m) {
    return hex(detail::sha1(reinterpret_cast<const std::uint8_t*>(m.data()), m.size()));
  };
  EXPECT_EQ(h("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(h(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(h("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(h(std::string(1000, 'a')), "291e9a6c66994949b57ba5e650361e98fc36b1ba");
}

TEST(CommunityIdTest, SpecificationExamples) {
  struct V {
    const char* pair;
    std::uint16_t seed;
    const char* id;
  } vectors[] = {
      {"tcp 1.2.3.4:1122 -> 5.6.7.8:3344", 0, "1:wCb3OG7yAFWelaUydu0D+125CLM="},
      {"tcp 5.6.7.8:3344 -> 1.2.3.4:1122", 0, "1:wCb3OG7yAFWelaUydu0D+125CLM="},
      {"udp 1.2.3.4:1122 -> 5.6.7.8:3344", 0, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg="},
      {"udp 5.6.7.8:3344 -> 1.2.3.4:1122", 0, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg="},
      {"tcp 1.2.3.4:1122 -> 5.6.7.8:3344", 1, "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="},
      {"udp 1.2.3.4:1122 -> 5.6.7.8:3344", 1, "1:OShq+iKDAMVouh/4bMxB9Sz4amw="},
  };
  for (const auto& v : vectors) {
    auto p = SocketPair::parse(v.pair);
    ASSERT_TRUE(p) << v.pair;
    EXPECT_EQ(community_id(*p, v.seed), v.id) << v.pair << " seed " << v.seed;
  }
}

TEST(CommunityIdTest, IcmpRequestAndReplyShareOneId) {
  // Echo request type 8 code 0, and the reply type 0 code 0 the other way.
  EXPECT_EQ(community_id(ip("1.2.3.4"), ip("5.6.7.8"), 1, 8, 0, true),
            "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=");
  EXPECT_EQ(community_id(ip("5.6.7.8"), ip("1.2.3.4"), 1, 0, 0, true),
            "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=");
  EXPECT_EQ(community_id(ip("1.2.3.4"), ip("5.6.7.8"), 1, 8, 0, true, 1),
            "1:9pr4ZGTICiuZoIh90RRYE2RyXpU=");
  auto a = ip("fe80:0001:0203:0405:0607:0809:0A0B:0C0D");
  auto b = ip("fe80:1011:1213:1415:1617:1819:1A1B:1C1D");
  EXPECT_EQ(community_id(a, b, 58, 128, 0, true), "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=");
  EXPECT_EQ(community_id(b, a, 58, 129, 0, true), "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=");
  EXPECT_EQ(community_id(a, b, 58, 128, 0, true, 1), "1:IO27GQzPuCtNnwFvjWALMHu5tJE=");
}

TEST(CommunityIdTest, ProtocolWithoutPorts) {
  // RSVP (46) between the same hosts.
  EXPECT_EQ(community_id(ip("1.2.3.4"), ip("5.6.7.8"), 46, 0, 0, false),
            "1:ikv3kmf89luf73WPz1jOs49S768=");
}

}  // namespace
}  // namespace sockscope
