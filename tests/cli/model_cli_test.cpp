// The real `sockscope` binary on the core-model commands: exit codes, one-line
// errors, and JSON Lines parsed by an independent JSON parser.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/run_command.hpp"

namespace sockscope::testing {
namespace {

using nlohmann::json;

// Whether `text` is valid UTF-8, by iconv (an independent decoder).
bool valid_utf8(const std::string& text) {
  return run_command({"iconv", "-f", "UTF-8", "-t", "UTF-8"}, 10, text).exit_code == 0;
}

// Every error line is one line of valid UTF-8, whatever the input echoed in it:
// newlines escaped, long inputs cut with "...", multi-byte characters whole,
// bytes that are no UTF-8 escaped.
TEST(CliModelTest, ErrorLinesAreOneLineOfValidUtf8) {
  const std::string long_input = "1.2.3.4:" + std::string(5000, '7');
  const std::vector<std::vector<std::string>> cases = {
      {"endpoint", "1.2.3.4:80\n"},
      {"endpoint", long_input},
      {"pair", "10.0.0.1:1, " + std::string(5000, 'x')},
      {"port", "\xc3\xa9"},           // é
      {"port", "\u20ac80"},           // €80 (as \x escapes, e2 82 ac80 would be one escape)
      {"endpoint", "\xff\xfe:80"},    // no UTF-8 at all
      {"endpoint", "1.2.3.4:8\xc3"},  // a cut sequence at the end
      {"sockets", "--local", "10.0.0.1\r\n\x1b[2J"},
  };
  for (const auto& args : cases) {
    auto r = run_sockscope(args);
    EXPECT_EQ(r.exit_code, 2) << args.back();
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(valid_utf8(r.err)) << r.err;
    EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << r.err;
    EXPECT_LT(r.err.size(), 400u) << "a 5,000-character input is cut";
  }
  // A multi-byte character is quoted whole, never half of it.
  auto r = run_sockscope({"port", "\xc3\xa9"});
  EXPECT_NE(r.err.find("at column 1: '\xc3\xa9'"), std::string::npos) << r.err;
  r = run_sockscope({"endpoint", long_input});
  EXPECT_NE(r.err.find("'1.2.3.4:777"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("...'"), std::string::npos) << r.err;
}

TEST(CliModelTest, SeedPairExplainsInTable) {
  auto r = run_sockscope({"pair", "192.168.1.5:1099, 192.168.1.7:80"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("client        192.168.1.5:1099"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("server        192.168.1.7:80"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("well-known-port"), std::string::npos);
  EXPECT_NE(r.out.find("community id  1:"), std::string::npos);
  EXPECT_EQ(r.out.find("\x1b["), std::string::npos) << "no colour when not a TTY";
}

TEST(CliModelTest, SeedPairExplainsInJson) {
  auto r = run_sockscope(
      {"--json", "pair", "192.168.1.5:1099, 192.168.1.7:80", "tcp 1.2.3.4:1122 -> 5.6.7.8:3344"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = lines(r.out);
  ASSERT_EQ(rows.size(), 2u);
  json seed = json::parse(rows[0]);
  EXPECT_EQ(seed["transport"], "tcp");
  EXPECT_EQ(seed["client"]["address"], "192.168.1.5");
  EXPECT_EQ(seed["client"]["port"], 1099);
  EXPECT_EQ(seed["client"]["group"], "registered");
  EXPECT_EQ(seed["server"]["address"], "192.168.1.7");
  EXPECT_EQ(seed["server"]["port"], 80);
  EXPECT_EQ(seed["server"]["group"], "well-known");
  EXPECT_EQ(seed["role_evidence"], "well-known-port");
  EXPECT_TRUE(seed["community_id"].get<std::string>().starts_with("1:"));
  // The specification's example flow, checked end to end through the CLI.
  json spec = json::parse(rows[1]);
  EXPECT_EQ(spec["community_id"], "1:wCb3OG7yAFWelaUydu0D+125CLM=");
  // Options after the subcommand work too.
  auto after = run_sockscope({"pair", "192.168.1.5:1099, 192.168.1.7:80", "--json"});
  EXPECT_EQ(after.out, rows[0] + "\n");
}

TEST(CliModelTest, EveryErrorClassExitsTwoWithOneLine) {
  struct Bad {
    const char* input;
    const char* message;
  } bad[] = {
      {"192.168.1.5:70000", "port out of range 0-65535 at column 13"},
      {"1.2.3.04:80", "leading zero in IPv4 octet at column 7"},
      {"2001:db8::1:443", "needs brackets"},
      {"[::1]", "missing port after ']' at column 6"},
      {"1.2.3.4:80x", "unexpected character after port at column 11"},
      {"", "empty endpoint"},
  };
  for (const auto& b : bad) {
    auto r = run_sockscope({"endpoint", b.input});
    EXPECT_EQ(r.exit_code, 2) << b.input;
    EXPECT_TRUE(r.out.empty()) << b.input;
    auto err = lines(r.err);
    ASSERT_EQ(err.size(), 1u) << b.input << ": " << r.err;
    EXPECT_NE(err[0].find(b.message), std::string::npos) << err[0];
    EXPECT_TRUE(err[0].starts_with("sockscope: endpoint '")) << err[0];
  }
  auto pair = run_sockscope({"pair", "192.168.1.5:1099, 192.168.1.7:70000"});
  EXPECT_EQ(pair.exit_code, 2);
  EXPECT_NE(pair.err.find("at column 31"), std::string::npos) << pair.err;
}

TEST(CliModelTest, GoodResultsAreKeptBesideBadInput) {
  auto r = run_sockscope({"--json", "endpoint", "10.0.0.1:80", "10.0.0.1:99999", "[::1]:443"});
  EXPECT_EQ(r.exit_code, 2);
  auto rows = lines(r.out);
  ASSERT_EQ(rows.size(), 2u) << r.out;
  EXPECT_EQ(json::parse(rows[0])["endpoint"]["address"], "10.0.0.1");
  EXPECT_EQ(json::parse(rows[1])["endpoint"]["address"], "::1");
  EXPECT_EQ(json::parse(rows[1])["family"], "ipv6");
}

TEST(CliModelTest, EndpointCanonicalFormAndHostEphemeral) {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  unsigned low = 0, high = 0;
  in >> low >> high;
  auto r = run_sockscope({"--json", "endpoint", "[2001:DB8:0:0:0:0:0:1]:" + std::to_string(low)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(lines(r.out).at(0));
  EXPECT_EQ(j["endpoint"]["address"], "2001:db8::1");
  if (low != 0) {
    EXPECT_EQ(j["endpoint"]["ephemeral"], true);
  }
}

TEST(CliModelTest, GroupsListsIanaAndHostRanges) {
  auto r = run_sockscope({"--json", "groups"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int groups = 0, host = 0;
  for (const auto& line : lines(r.out)) {
    json j = json::parse(line);
    if (j["kind"] == "group") {
      ++groups;
      if (j["group"] == "registered") {
        EXPECT_EQ(j["first"], 1024);
        EXPECT_EQ(j["last"], 49151);
        EXPECT_EQ(j["size"], 48128);
      }
    } else if (j["host"] == true) {
      ++host;
    }
  }
  EXPECT_EQ(groups, 3);
  EXPECT_EQ(host, 1);
  // One CSV: a header with the JSON names of both record kinds, rows of the same width.
  auto csv = run_sockscope({"--csv", "groups"});
  EXPECT_TRUE(csv.out.starts_with("kind,group,first,last,size,description,source,host\n"))
      << csv.out;
  const auto rows = lines(csv.out);
  EXPECT_EQ(rows.size(), 1u + 3u + 4u);
  for (const auto& row : rows) {
    if (row.find('"') == std::string::npos) {
      EXPECT_EQ(std::count(row.begin(), row.end(), ','), 7);
    }
  }
}

TEST(CliModelTest, BadUsageExitsTwo) {
  EXPECT_EQ(run_sockscope({"no-such-command"}).exit_code, 2);
  EXPECT_EQ(run_sockscope({"pair"}).exit_code, 2);
  EXPECT_EQ(run_sockscope({"--json", "--csv", "groups"}).exit_code, 2);
  EXPECT_EQ(run_sockscope({"--help"}).exit_code, 0);
}

}  // namespace
}  // namespace sockscope::testing
