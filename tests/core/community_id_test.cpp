// Community ID v1 against the specification's published example values (the
// same vectors Zeek's and other implementations' test suites use).
#include "sockscope/community_id.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/community_id_text.hpp"

namespace sockscope {
namespace {

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

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

detail::Sha1Digest accelerated_sha1(const std::uint8_t* data, std::size_t size) {
  return *detail::sha1_accelerated(data, size);
}

// The same published values through each SHA-1 block function, as the benchmark
// runs them.
TEST(CommunityIdTest, BothSha1ImplementationsGiveTheSpecificationValues) {
  struct V {
    const char *src, *dst;
    std::uint8_t protocol;
    std::uint16_t sport, dport;
    bool has_ports;
    std::uint16_t seed;
    const char* id;
  } vectors[] = {
      {"1.2.3.4", "5.6.7.8", 6, 1122, 3344, true, 0, "1:wCb3OG7yAFWelaUydu0D+125CLM="},
      {"5.6.7.8", "1.2.3.4", 17, 3344, 1122, true, 1, "1:OShq+iKDAMVouh/4bMxB9Sz4amw="},
      {"fe80:0001:0203:0405:0607:0809:0A0B:0C0D", "fe80:1011:1213:1415:1617:1819:1A1B:1C1D", 58,
       128, 0, true, 1, "1:IO27GQzPuCtNnwFvjWALMHu5tJE="},
      {"1.2.3.4", "5.6.7.8", 46, 0, 0, false, 0, "1:ikv3kmf89luf73WPz1jOs49S768="},
  };
  auto text = [](const V& v, detail::Sha1Function hash) {
    char out[detail::kCommunityIdSize];
    detail::community_id_to(out, ip(v.src), ip(v.dst), v.protocol, v.sport, v.dport, v.has_ports,
                            v.seed, hash);
    return std::string(out, sizeof out);
  };
  for (const V& v : vectors) {
    EXPECT_EQ(text(v, &detail::sha1_portable), v.id) << v.src << " " << v.dst;
  }
  if (!detail::sha1_accelerated_available()) {
    GTEST_SKIP() << "this CPU has no SHA extensions (sha_ni): portable only";
  }
  for (const V& v : vectors) {
    EXPECT_EQ(text(v, &accelerated_sha1), v.id) << v.src << " " << v.dst;
  }
}

}  // namespace
}  // namespace sockscope
