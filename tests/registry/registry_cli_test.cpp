// The real `sockscope port|service|search` (and `pair`'s service field): exit
// codes, one-line errors with columns, JSON Lines read by nlohmann-json, the
// seed's well-known ports with IANA's names, local labels from --services.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/run_command.hpp"

namespace sockscope::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::vector<json> parse_lines(const std::string& out) {
  std::vector<json> rows;
  for (const auto& line : lines(out)) rows.push_back(json::parse(line));
  return rows;
}

bool has_row(const std::vector<json>& rows, int port, const std::string& transport,
             const std::string& name, const std::string& source = "iana") {
  for (const auto& r : rows) {
    if (r["port"] == port && r["transport"] == transport && r["name"] == name &&
        r["source"] == source) {
      return true;
    }
  }
  return false;
}

TEST(RegistryCliTest, SeedPortsListIanasNames) {
  // The seed's table of well-known ports: IANA's names for the seed's applications.
  auto r = run_sockscope({"--json", "port", "20", "21", "22", "23", "25", "53", "67", "68", "69",
                          "80", "110", "143", "161", "443"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = parse_lines(r.out);
  struct Seed {
    int port;
    const char* transport;
    const char* name;
  } seeds[] = {{20, "tcp", "ftp-data"}, {21, "tcp", "ftp"},    {22, "tcp", "ssh"},
               {23, "tcp", "telnet"},   {25, "tcp", "smtp"},   {53, "udp", "domain"},
               {53, "tcp", "domain"},   {67, "udp", "bootps"}, {68, "udp", "bootpc"},
               {69, "udp", "tftp"},     {80, "tcp", "http"},   {110, "tcp", "pop3"},
               {143, "tcp", "imap"},    {161, "udp", "snmp"},  {443, "tcp", "https"}};
  for (const auto& s : seeds) {
    EXPECT_TRUE(has_row(rows, s.port, s.transport, s.name)) << s.port << "/" << s.transport;
  }
  for (const auto& row : rows) {
    for (const char* key : {"query", "port", "last_port", "transport", "name", "description",
                            "group", "reference", "alias_of", "source", "status"}) {
      EXPECT_TRUE(row.contains(key)) << key << " in " << row.dump();
    }
    EXPECT_EQ(row["group"], "well-known");
  }
}

TEST(RegistryCliTest, PortTableShowsEveryTransport) {
  auto r = run_sockscope({"port", "443"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto out = lines(r.out);
  ASSERT_GE(out.size(), 4u);
  for (const char* h : {"PORT", "TRANSPORT", "NAME", "GROUP", "DESCRIPTION", "REFERENCE"}) {
    EXPECT_NE(out[0].find(h), std::string::npos) << out[0];
  }
  for (const char* t : {" tcp ", " udp ", " sctp "}) {
    EXPECT_NE(r.out.find(t), std::string::npos) << t;
  }
  EXPECT_NE(r.out.find("http protocol over TLS/SSL"), std::string::npos);
  EXPECT_NE(r.out.find("[RFC9110]"), std::string::npos);
}

TEST(RegistryCliTest, TransportAndRangeQueries) {
  auto udp = parse_lines(run_sockscope({"--json", "port", "53/udp"}).out);
  ASSERT_EQ(udp.size(), 2u);
  EXPECT_EQ(udp[0]["name"], "domain");
  EXPECT_EQ(udp[0]["transport"], "udp");
  // The name in common use that IANA does not list, marked as the alias it is.
  EXPECT_EQ(udp[1]["name"], "dns");
  EXPECT_EQ(udp[1]["alias_of"], "domain");
  EXPECT_EQ(udp[1]["source"], "common");

  auto r = run_sockscope({"--json", "port", "6000-6010"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = parse_lines(r.out);
  int x11 = 0;
  for (const auto& row : rows) {
    if (row["name"] == "x11" && row["source"] == "iana") {
      ++x11;
      EXPECT_EQ(row["port"], 6000);
      EXPECT_EQ(row["last_port"], 6063);
      EXPECT_EQ(row["group"], "registered");
    }
  }
  EXPECT_EQ(x11, 2);
  // A single port inside the range finds it too.
  EXPECT_TRUE(
      has_row(parse_lines(run_sockscope({"--json", "port", "6010/tcp"}).out), 6000, "tcp", "x11"));
}

TEST(RegistryCliTest, NoMatchExitsOneWithTheGroup) {
  auto r = run_sockscope({"port", "4"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("port 4: unassigned by IANA, well-known group 0-1023"), std::string::npos)
      << r.out;
  auto j = run_sockscope({"--json", "port", "0/tcp"});
  EXPECT_EQ(j.exit_code, 1);
  auto rows = parse_lines(j.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows[0]["name"].is_null());
  EXPECT_EQ(rows[0]["status"], "reserved");
  EXPECT_EQ(rows[0]["reference"], "[RFC6335]");
  EXPECT_NE(j.err.find("port 0/tcp: reserved by IANA"), std::string::npos) << j.err;

  auto dyn = run_sockscope({"port", "50000"});
  EXPECT_EQ(dyn.exit_code, 1);
  EXPECT_NE(dyn.out.find("dynamic group 49152-65535"), std::string::npos) << dyn.out;

  auto svc = run_sockscope({"service", "no-such-service"});
  EXPECT_EQ(svc.exit_code, 1);
  EXPECT_NE(svc.out.find("no service named 'no-such-service'"), std::string::npos);
  EXPECT_EQ(run_sockscope({"search", "zzzzqqqq"}).exit_code, 1);
}

TEST(RegistryCliTest, BadInputExitsTwoWithTheColumn) {
  struct Bad {
    const char* input;
    const char* message;
  } bad[] = {
      {"70000", "port out of range 0-65535 at column 1: '70000'"},
      {"53/xyz", "unknown transport (want tcp, udp, sctp or dccp) at column 4: 'xyz'"},
      {"10-5", "port range ends before it starts at column 1: '10-5'"},
      {"80/icmp", "at column 4: 'icmp'"},
      {"http", "at column 1"},
  };
  for (const auto& b : bad) {
    auto r = run_sockscope({"port", b.input});
    EXPECT_EQ(r.exit_code, 2) << b.input;
    auto err = lines(r.err);
    ASSERT_EQ(err.size(), 1u) << r.err;
    EXPECT_EQ(err[0].rfind(std::string("sockscope: port '") + b.input + "': ", 0), 0u) << err[0];
    EXPECT_NE(err[0].find(b.message), std::string::npos) << err[0];
  }
  // Good answers are kept beside bad input.
  auto mixed = run_sockscope({"--json", "port", "22/tcp", "99999"});
  EXPECT_EQ(mixed.exit_code, 2);
  EXPECT_TRUE(has_row(parse_lines(mixed.out), 22, "tcp", "ssh"));
}

TEST(RegistryCliTest, ServiceAndSearch) {
  auto ssh = parse_lines(run_sockscope({"--json", "service", "SSH"}).out);
  ASSERT_EQ(ssh.size(), 3u);
  for (const auto& row : ssh) EXPECT_EQ(row["port"], 22);

  auto r = run_sockscope({"--json", "search", "mail"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto hits = parse_lines(r.out);
  ASSERT_GT(hits.size(), 5u);
  const std::vector<std::string> order = {"exact-name", "name-prefix", "name-word",
                                          "description-word"};
  std::size_t last = 0;
  bool smtp = false;
  for (const auto& h : hits) {
    auto rank = std::find(order.begin(), order.end(), h["match"].get<std::string>());
    ASSERT_NE(rank, order.end()) << h.dump();
    EXPECT_GE(std::size_t(rank - order.begin()), last) << h.dump();
    last = std::size_t(rank - order.begin());
    smtp = smtp || (h["name"] == "smtp" && h["source"] == "iana");
  }
  EXPECT_TRUE(smtp) << "smtp: 'Simple Mail Transfer'";
}

TEST(RegistryCliTest, LocalServicesFilesAreLabelsWithTheirSource) {
  const fs::path dir = fs::temp_directory_path() / ("sockscope-cli-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string file = (dir / "services").string();
  std::ofstream(file) << "gateway 8443/tcp api  # our API gateway\nbroken line\n";
  auto r = run_sockscope({"--services", file, "--json", "port", "8443/tcp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = parse_lines(r.out);
  ASSERT_GE(rows.size(), 2u);
  EXPECT_EQ(rows[0]["name"], "gateway");
  EXPECT_EQ(rows[0]["source"], file);
  EXPECT_EQ(rows[0]["description"], "our API gateway");
  EXPECT_EQ(rows[1]["name"], "api");
  EXPECT_EQ(rows[1]["alias_of"], "gateway");
  EXPECT_TRUE(has_row(rows, 8443, "tcp", "pcsync-https"));  // IANA's name follows
  EXPECT_NE(r.err.find(file + ":2: expected port/transport"), std::string::npos) << r.err;

  auto table = run_sockscope({"--services", file, "port", "8443/tcp"});
  EXPECT_NE(lines(table.out)[0].find("SOURCE"), std::string::npos);

  auto missing = run_sockscope({"--services", (dir / "nope").string(), "port", "22"});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find("cannot read services file"), std::string::npos) << missing.err;
  EXPECT_TRUE(missing.out.empty());
  fs::remove_all(dir);
}

TEST(RegistryCliTest, PortSaysWhetherItIsInTheHostsEphemeralRange) {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  unsigned first = 0, last = 0;
  if (!(in >> first >> last)) GTEST_SKIP() << "no ip_local_port_range here";
  auto r = run_sockscope({"port", std::to_string(first)});
  EXPECT_NE(r.out.find("port " + std::to_string(first) + " is in this host's ephemeral range " +
                       std::to_string(first) + "-" + std::to_string(last)),
            std::string::npos)
      << r.out;
  EXPECT_EQ(run_sockscope({"port", "22"}).out.find("ephemeral"), std::string::npos);
  // In JSON, every row of a single-port query carries it.
  auto inside = parse_lines(run_sockscope({"--json", "port", std::to_string(first)}).out);
  ASSERT_FALSE(inside.empty());
  for (const auto& row : inside) EXPECT_EQ(row["ephemeral"], true) << row.dump();
  for (const auto& row : parse_lines(run_sockscope({"--json", "port", "22"}).out)) {
    EXPECT_EQ(row["ephemeral"], false) << row.dump();
  }
}

TEST(RegistryCliTest, PairShowsTheServerPortsService) {
  auto rows = parse_lines(run_sockscope({"--json", "pair", "192.168.1.5:1099, 192.168.1.7:80",
                                         "udp 10.0.0.1:50001 -> 10.0.0.2:4"})
                              .out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["service"], "http");
  EXPECT_TRUE(rows[1]["service"].is_null());
  auto table = run_sockscope({"pair", "192.168.1.5:1099, 192.168.1.7:80"});
  EXPECT_NE(table.out.find("service       http (IANA's name for 80/tcp"), std::string::npos)
      << table.out;
}

}  // namespace
}  // namespace sockscope::testing
