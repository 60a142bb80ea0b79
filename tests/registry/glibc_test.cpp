// The registry loaded with this machine's /etc/services against glibc's own
// reading of it: for every entry getservent_r lists, getservbyport_r's name is
// the registry's primary name, and getservbyname_r gives the port of
// Registry::find for every name and alias.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netdb.h>

#include <algorithm>
#include <filesystem>

#include "sockscope/registry.hpp"

namespace sockscope {
namespace {

TEST(GlibcServicesTest, GetservbyportAgreesForEveryEntry) {
  if (!std::filesystem::exists("/etc/services")) GTEST_SKIP() << "no /etc/services here";
  Registry reg;
  auto warnings = reg.load_services_file("/etc/services");
  ASSERT_TRUE(warnings.has_value()) << warnings.error().what();
  for (const auto& w : *warnings) EXPECT_FALSE(w.malformed) << w.what();

  std::size_t checked = 0, other_transport = 0;
  char buf[4096];
  servent entry{}, *result = nullptr;
  ::setservent(0);
  while (::getservent_r(&entry, buf, sizeof buf, &result) == 0 && result) {
    const std::string name = entry.s_name, proto = entry.s_proto;
    const Port port = ntohs(static_cast<std::uint16_t>(entry.s_port));
    std::vector<std::string> aliases;
    for (char** a = entry.s_aliases; *a; ++a) aliases.emplace_back(*a);
    auto t = parse_transport(proto);
    if (!t || !has_ports(*t)) {
      ++other_transport;  // ddp: reported as a non-malformed warning by the loader
      continue;
    }
    servent by_port{}, *found = nullptr;
    char buf2[4096];
    ASSERT_EQ(::getservbyport_r(entry.s_port, proto.c_str(), &by_port, buf2, sizeof buf2, &found),
              0);
    ASSERT_NE(found, nullptr) << name;
    const Service* primary = reg.primary(port, *t);
    ASSERT_NE(primary, nullptr) << port << "/" << proto;
    EXPECT_EQ(primary->name, found->s_name) << port << "/" << proto;

    aliases.push_back(name);
    for (const auto& alias : aliases) {
      servent by_name{}, *named = nullptr;
      ASSERT_EQ(
          ::getservbyname_r(alias.c_str(), proto.c_str(), &by_name, buf2, sizeof buf2, &named), 0);
      ASSERT_NE(named, nullptr) << alias;
      const Port glibc_port = ntohs(static_cast<std::uint16_t>(named->s_port));
      const Service* ours = reg.find(alias, *t);
      ASSERT_NE(ours, nullptr) << alias << "/" << proto;
      EXPECT_EQ(ours->ports.first, glibc_port) << alias << "/" << proto;
      const auto all = reg.by_name(alias);
      EXPECT_NE(std::find(all.begin(), all.end(), ours), all.end()) << alias;
    }
    ++checked;
  }
  ::endservent();
  std::cout << checked << " /etc/services entries agree with glibc; " << other_transport
            << " entries for other transports (ddp) skipped\n";
  EXPECT_GT(checked, 0u);
}

}  // namespace
}  // namespace sockscope
