// Lookups of the embedded table, checked against facts read from IANA's
// registry by hand (ranges, aliases, reserved ports, the dynamic group).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <thread>

#include "sockscope/registry.hpp"

namespace sockscope {
namespace {

const Registry& iana() { return Registry::builtin(); }

bool registry_name_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::vector<std::string_view> names(const std::vector<const Service*>& services) {
  std::vector<std::string_view> out;
  for (const Service* s : services) out.push_back(s->name);
  return out;
}

TEST(LookupTest, PortInsideARegisteredRangeIsFound) {
  for (Port p : {6000, 6010, 6063}) {
    const Service* s = iana().primary(p, Transport::kTcp);
    ASSERT_NE(s, nullptr) << p;
    EXPECT_EQ(s->name, "x11");
    EXPECT_EQ(s->ports, (PortRange{6000, 6063}));
  }
  EXPECT_NE(iana().primary(6064, Transport::kTcp), nullptr);  // 6064 is ndl-ahp-svc
  EXPECT_NE(iana().primary(6064, Transport::kTcp)->name, "x11");
  // flex-lm 27000-27009 has no transport in IANA's rows: embedded for tcp and udp.
  EXPECT_EQ(iana().primary(27005, Transport::kUdp)->name, "flex-lm");
}

TEST(LookupTest, PrimaryFirstThenAliasesMarked) {
  auto http = iana().by_port(80, Transport::kTcp);
  ASSERT_EQ(names(http), (std::vector<std::string_view>{"http", "www", "www-http"}));
  EXPECT_FALSE(http[0]->is_alias());
  EXPECT_EQ(http[1]->alias_of, "http");
  EXPECT_EQ(http[2]->alias_of, "http");
  // Two non-alias names on one port keep IANA's order: 42 is "name" then "nameserver".
  EXPECT_EQ(names(iana().by_port(42, Transport::kTcp)),
            (std::vector<std::string_view>{"name", "nameserver"}));
  auto whois = iana().by_port(63, Transport::kTcp);
  ASSERT_EQ(names(whois), (std::vector<std::string_view>{"whoispp", "whois++"}));
  EXPECT_EQ(whois[1]->alias_of, "whoispp");
}

TEST(LookupTest, StatusOfPortsWithoutNames) {
  PortAnswer zero = iana().lookup(0, Transport::kTcp);
  EXPECT_EQ(zero.status, PortStatus::kReserved);
  EXPECT_EQ(zero.note, "Reserved");
  EXPECT_EQ(zero.note_reference, "[RFC6335]");
  EXPECT_TRUE(zero.services.empty());
  EXPECT_EQ(iana().lookup(1015, Transport::kUdp).status, PortStatus::kReserved);  // 1011-1020
  EXPECT_EQ(iana().lookup(6667, Transport::kUdp).status, PortStatus::kReserved);  // ircu is tcp
  EXPECT_EQ(iana().lookup(6667, Transport::kTcp).status, PortStatus::kAssigned);
  PortAnswer four = iana().lookup(4, Transport::kTcp);
  EXPECT_EQ(four.status, PortStatus::kUnassigned);
  EXPECT_EQ(four.group, PortGroup::kWellKnown);
  PortAnswer dynamic = iana().lookup(50000, Transport::kUdp);
  EXPECT_EQ(dynamic.status, PortStatus::kDynamic);
  EXPECT_EQ(dynamic.group, PortGroup::kDynamic);
  EXPECT_EQ(iana().lookup(443, Transport::kTcp).status, PortStatus::kAssigned);
  EXPECT_EQ(to_string(PortStatus::kReserved), "reserved");
}

TEST(LookupTest, ByNameIsCaseInsensitiveAndFollowsAliases) {
  auto ssh = iana().by_name("SSH");
  ASSERT_EQ(ssh.size(), 3u);
  for (const Service* s : ssh) EXPECT_EQ(s->ports, (PortRange{22, 22}));
  EXPECT_EQ(ssh[0]->transport, Transport::kTcp);
  EXPECT_EQ(ssh[1]->transport, Transport::kUdp);
  EXPECT_EQ(ssh[2]->transport, Transport::kSctp);
  // The alias brings its target's assignments too.
  auto whois = names(iana().by_name("Whois++"));
  EXPECT_EQ(std::count(whois.begin(), whois.end(), "whois++"), 2);
  EXPECT_EQ(std::count(whois.begin(), whois.end(), "whoispp"), 2);
  EXPECT_TRUE(iana().by_name("no-such-service").empty());
  EXPECT_TRUE(iana().by_name("").empty());
  auto x11 = iana().by_name("x11");
  ASSERT_EQ(x11.size(), 2u);
  EXPECT_EQ(x11[0]->ports, (PortRange{6000, 6063}));
}

TEST(LookupTest, FindIsTheFirstAssignmentOnTheTransport) {
  const Service* domain = iana().find("DOMAIN", Transport::kUdp);
  ASSERT_NE(domain, nullptr);
  EXPECT_EQ(domain->ports.first, 53);
  EXPECT_EQ(domain->transport, Transport::kUdp);
  EXPECT_EQ(iana().find("www", Transport::kTcp)->alias_of, "http");
  EXPECT_EQ(iana().find("x11", Transport::kUdp)->ports, (PortRange{6000, 6063}));
  EXPECT_EQ(iana().find("ssh", Transport::kDccp), nullptr);
  EXPECT_EQ(iana().find("no-such-service", Transport::kTcp), nullptr);
  EXPECT_EQ(iana().find("", Transport::kTcp), nullptr);
  // Every record is found by its own name (each name's first record per transport).
  for (std::size_t i = 0; i < Registry::builtin_size(); ++i) {
    const Service& s = Registry::builtin_service(i);
    const Service* found = iana().find(s.name, s.transport);
    ASSERT_NE(found, nullptr) << s.name;
    EXPECT_TRUE(registry_name_equal(found->name, s.name)) << s.name;
  }
}

TEST(LookupTest, SearchRanksExactThenPrefixThenWords) {
  auto hits = iana().search("ssh");
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].service->name, "ssh");
  EXPECT_EQ(hits[0].rank, SearchRank::kExactName);
  for (std::size_t i = 1; i < hits.size(); ++i) EXPECT_LE(hits[i - 1].rank, hits[i].rank);
  auto has = [&](std::string_view name, SearchRank rank) {
    return std::any_of(hits.begin(), hits.end(), [&](const SearchHit& h) {
      return h.service->name == name && h.rank == rank;
    });
  };
  EXPECT_TRUE(has("sshell", SearchRank::kNamePrefix));
  EXPECT_TRUE(has("netconf-ssh", SearchRank::kNameWord));
  // "Mail" as a description word: smtp's "Simple Mail Transfer".
  auto mail = iana().search("MAIL");
  EXPECT_TRUE(std::any_of(mail.begin(), mail.end(), [](const SearchHit& h) {
    return h.service->name == "smtp" && h.rank == SearchRank::kDescriptionWord;
  }));
  EXPECT_TRUE(iana().search("").empty());
  EXPECT_TRUE(iana().search("zzzzqqqq").empty());
}

TEST(LookupTest, ByRangeListsEachAssignmentOnce) {
  auto services = iana().by_range({6000, 6010});
  auto x11 = std::count_if(services.begin(), services.end(),
                           [](const Service* s) { return s->name == "x11"; });
  EXPECT_EQ(x11, 2);  // tcp and udp, though the range covers 11 of its ports
  auto tcp = iana().by_range({20, 25}, Transport::kTcp);
  EXPECT_EQ(names(tcp),
            (std::vector<std::string_view>{"ftp-data", "ftp", "ssh", "telnet", "smtp"}));
  EXPECT_TRUE(iana().by_range({49152, 65535}).empty());
}

TEST(LookupTest, ConcurrentReadersSeeTheSameAnswers) {
  // Service objects are built on first use; readers race for them here.
  std::vector<const Service*> expected(65536);
  auto run = [](std::vector<const Service*>& out, Transport t) {
    for (std::uint32_t p = 0; p < 65536; ++p) out[p] = Registry::builtin().primary(Port(p), t);
  };
  std::vector<std::vector<const Service*>> got(4, std::vector<const Service*>(65536));
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back(run, std::ref(got[i]), Transport::kUdp);
  for (auto& t : threads) t.join();
  run(expected, Transport::kUdp);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(got[i], expected);
  EXPECT_EQ(expected[53]->name, "domain");
}

}  // namespace
}  // namespace sockscope
