// The embedded IANA table against hand-checked facts of IANA's registry
// (values read from the registry's own text, not from our table).
#include <gtest/gtest.h>

#include "sockscope/registry.hpp"

namespace sockscope {
namespace {

const Registry& iana() { return Registry::builtin(); }

TEST(BuiltinRegistryTest, PrimaryNamesOfTheSeedPorts) {
  struct Case {
    Port port;
    Transport transport;
    const char* name;
  } cases[] = {
      {20, Transport::kTcp, "ftp-data"}, {21, Transport::kTcp, "ftp"},
      {22, Transport::kTcp, "ssh"},      {23, Transport::kTcp, "telnet"},
      {25, Transport::kTcp, "smtp"},     {53, Transport::kUdp, "domain"},
      {53, Transport::kTcp, "domain"},   {67, Transport::kUdp, "bootps"},
      {68, Transport::kUdp, "bootpc"},   {69, Transport::kUdp, "tftp"},
      {80, Transport::kTcp, "http"},     {110, Transport::kTcp, "pop3"},
      {143, Transport::kTcp, "imap"},    {161, Transport::kUdp, "snmp"},
      {443, Transport::kTcp, "https"},   {443, Transport::kUdp, "https"},
      {443, Transport::kSctp, "https"},  {9, Transport::kDccp, "discard"},
  };
  for (const auto& c : cases) {
    const Service* s = iana().primary(c.port, c.transport);
    ASSERT_NE(s, nullptr) << c.port << "/" << to_string(c.transport);
    EXPECT_EQ(s->name, c.name);
    EXPECT_EQ(s->ports, (PortRange{c.port, c.port}));
    EXPECT_EQ(s->transport, c.transport);
    EXPECT_EQ(s->source, "iana");
    EXPECT_FALSE(s->is_alias());
  }
}

TEST(BuiltinRegistryTest, HttpsCarriesDescriptionAndReference) {
  const Service* s = iana().primary(443, Transport::kTcp);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->description, "http protocol over TLS/SSL");
  EXPECT_EQ(s->reference, "[RFC9110]");
  EXPECT_EQ(iana().primary(443, Transport::kSctp)->reference, "[RFC9260]");
}

TEST(BuiltinRegistryTest, NothingForIcmpAndTheDynamicRange) {
  EXPECT_EQ(iana().primary(443, Transport::kIcmp), nullptr);
  EXPECT_EQ(iana().primary(50000, Transport::kTcp), nullptr);
  EXPECT_EQ(iana().primary(65535, Transport::kUdp), nullptr);
}

}  // namespace
}  // namespace sockscope
