// services(5) files: parsing, warnings (file:line: problem), precedence over
// IANA's names, and unreadable files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sockscope/registry.hpp"

namespace sockscope {
namespace {

TEST(ServicesFileTest, LabelsComeBeforeIanaAndKeepTheirSource) {
  Registry reg;
  auto warnings = reg.load_services_text(
      "# local labels\n"
      "\n"
      "fsp\t\t21/udp\t\tfspd\n"
      "myapp 8443/tcp my-app  # our API gateway\n"
      "https 443/tcp\n",
      "test.services");
  EXPECT_TRUE(warnings.empty());
  const Service* fsp = reg.primary(21, Transport::kUdp);
  ASSERT_NE(fsp, nullptr);
  EXPECT_EQ(fsp->name, "fsp");
  EXPECT_EQ(fsp->source, "test.services");
  EXPECT_TRUE(fsp->is_local());
  auto at21 = reg.by_port(21, Transport::kUdp);
  ASSERT_EQ(at21.size(), 3u);  // fsp, its alias fspd, then IANA's ftp
  EXPECT_EQ(at21[1]->name, "fspd");
  EXPECT_EQ(at21[1]->alias_of, "fsp");
  EXPECT_EQ(at21[2]->name, "ftp");
  EXPECT_EQ(at21[2]->source, "iana");
  EXPECT_EQ(reg.primary(21, Transport::kTcp)->name, "ftp");  // the label was udp only

  const Service* app = reg.primary(8443, Transport::kTcp);
  EXPECT_EQ(app->name, "myapp");
  EXPECT_EQ(app->description, "our API gateway");
  auto by_alias = reg.by_name("MY-APP");
  ASSERT_GE(by_alias.size(), 2u);
  EXPECT_EQ(by_alias[0]->alias_of, "myapp");
  EXPECT_EQ(by_alias[1]->name, "myapp");

  // Repeating IANA's assignment adds no second https row: IANA's record is used.
  auto https = reg.by_port(443, Transport::kTcp);
  ASSERT_EQ(https.size(), 1u);
  EXPECT_EQ(https[0]->source, "iana");
  EXPECT_EQ(https[0], Registry::builtin().primary(443, Transport::kTcp));
  // The IANA table itself is untouched.
  EXPECT_EQ(Registry::builtin().primary(21, Transport::kUdp)->name, "ftp");
}

TEST(ServicesFileTest, FirstFileAndFirstLineWin) {
  Registry reg;
  reg.load_services_text("alpha 7777/tcp\nbeta 7777/tcp\n", "one");
  reg.load_services_text("gamma 7777/tcp\n", "two");
  auto at = reg.by_port(7777, Transport::kTcp);
  ASSERT_GE(at.size(), 3u);
  EXPECT_EQ(at[0]->name, "alpha");
  EXPECT_EQ(at[1]->name, "beta");
  EXPECT_EQ(at[2]->name, "gamma");
  EXPECT_EQ(at[2]->source, "two");
  EXPECT_EQ(reg.primary(7777, Transport::kTcp)->name, "alpha");
}

TEST(ServicesFileTest, MalformedLinesAreReportedWithLineAndSkipped) {
  Registry reg;
  auto warnings = reg.load_services_text(
      "good 1234/tcp\n"
      "noport\n"
      "bad 70000/tcp\n"
      "bad2 12/\n"
      "bad3 12\n"
      "rtmp 1/ddp\n"
      "mixed 9999/tcp/ddp\n"
      "ctl 55/tcp \x1b[31m\n"
      "range 6100-6105/tcp/udp # Wireshark's form\n"
      "backwards 20-10/tcp\n",
      "f.txt");
  std::vector<std::string> what;
  for (const auto& w : warnings) what.push_back(w.what());
  ASSERT_EQ(what.size(), 8u) << ::testing::PrintToString(what);
  EXPECT_EQ(what[0], "f.txt:2: missing port/transport after the name at column 1: 'noport'");
  EXPECT_EQ(what[1], "f.txt:3: port out of range 0-65535 at column 5: '70000'");
  EXPECT_EQ(what[2], "f.txt:4: empty transport at column 9: '12/'");
  EXPECT_EQ(what[3], "f.txt:5: expected port/transport (e.g. 22/tcp) at column 6: '12'");
  EXPECT_EQ(what[4], "f.txt:6: transport 'ddp' is not one sockscope models (tcp, udp, sctp, dccp)");
  EXPECT_FALSE(warnings[4].malformed);
  EXPECT_EQ(warnings[5].line, 7u);  // kept for tcp, warned about ddp
  EXPECT_FALSE(warnings[5].malformed);
  EXPECT_EQ(what[6], "f.txt:8: control character (byte 27) at column 12");
  EXPECT_TRUE(warnings[6].malformed);
  EXPECT_EQ(what[7], "f.txt:10: port range ends before it starts at column 11: '20-10'");

  EXPECT_EQ(reg.primary(1234, Transport::kTcp)->name, "good");
  EXPECT_EQ(reg.primary(9999, Transport::kTcp)->name, "mixed");
  EXPECT_EQ(reg.primary(6103, Transport::kUdp)->name, "range");
  EXPECT_EQ(reg.primary(6103, Transport::kUdp)->ports, (PortRange{6100, 6105}));
  EXPECT_EQ(reg.local_size(), 4u);  // good, mixed/tcp, range/tcp, range/udp
}

TEST(ServicesFileTest, FilesAreReadAndUnreadableOnesAreErrors) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("sockscope-services-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = (dir / "services").string();
  std::ofstream(path) << "myapp 8443/tcp\nbroken\n";
  Registry reg;
  auto loaded = reg.load_services_file(path);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().what();
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].what(), path +
                                     ":2: missing port/transport after the name at column 1: "
                                     "'broken'");
  EXPECT_EQ(reg.primary(8443, Transport::kTcp)->source, path);

  auto missing = reg.load_services_file((dir / "nope").string());
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().what().find("No such file or directory"), std::string::npos);
  auto directory = reg.load_services_file(dir.string());
  ASSERT_FALSE(directory.has_value());
  EXPECT_NE(directory.error().what().find("Is a directory"), std::string::npos)
      << directory.error().what();
  std::filesystem::remove_all(dir);
}

TEST(ServicesFileTest, MovedRegistryKeepsItsLabels) {
  Registry reg;
  reg.load_services_text("short 7001/tcp\n", "s");  // short strings live inside std::string
  Registry moved = std::move(reg);
  EXPECT_EQ(moved.primary(7001, Transport::kTcp)->name, "short");
  EXPECT_EQ(moved.by_name("short").at(0)->source, "s");
}

// A Registry scans its labels for its first few lookups and builds its indexes
// when lookups become many (so that `sockscope port 443` never builds them).
// Both paths must give the same answers: each question goes to a fresh registry
// (scan) and to one warmed past the threshold (indexes).
std::string describe(const Service* s) {
  if (!s) return "-";
  return std::string(s->name) + "|" + std::string(s->source) + "|" + std::string(s->alias_of) +
         "|" + std::to_string(s->ports.first) + "-" + std::to_string(s->ports.last) + "|" +
         std::string(to_string(s->transport));
}
std::string describe(const std::vector<const Service*>& v) {
  std::string out;
  for (const Service* s : v) out += describe(s) + ";";
  return out;
}

TEST(ServicesFileTest, ScanningAndIndexedLookupsAgree) {
  const std::string text =
      "alpha 7000/tcp a1 A2   # first\n"
      "Beta 7000/tcp\n"
      "alpha 7000/udp\n"
      "range 7100-7110/tcp r1\n"
      "inner 7105/tcp\n"
      "https 443/tcp\n"
      "HTTP 80/tcp www\n"
      "dup 7200/tcp\n"
      "dup 7201/tcp\n"
      "gamma 7300/tcp/udp g\n"
      "late 7100/tcp\n";
  auto load = [&](Registry& reg) {
    reg.load_services_text(text, "a.services");
    reg.load_services_text("alpha 7000/tcp\nsecond 7400/udp alpha\n", "b.services");
    if (std::filesystem::exists("/etc/services")) (void)reg.load_services_file("/etc/services");
  };
  Registry warm;
  load(warm);
  for (int i = 0; i < 200; ++i) (void)warm.primary(Port(i), Transport::kTcp);
  // The same question to a fresh registry (its first lookup: a scan) and to `warm`.
  auto agree = [&](auto question, const std::string& what) {
    Registry fresh;
    load(fresh);
    EXPECT_EQ(describe(question(fresh)), describe(question(warm))) << what;
  };

  const Port ports[] = {7000, 7100, 7105, 7110, 7111, 443, 80,
                        7200, 7201, 7300, 7400, 21,   22,  9999};
  for (Port port : ports) {
    for (Transport t : {Transport::kTcp, Transport::kUdp}) {
      agree([&](Registry& r) { return r.by_port(port, t); }, "by_port " + std::to_string(port));
      agree([&](Registry& r) { return r.primary(port, t); }, "primary " + std::to_string(port));
    }
  }
  for (std::string name : {"alpha", "A1", "a2", "beta", "range", "r1", "inner", "https", "http",
                           "WWW", "dup", "gamma", "g", "late", "ssh", "nonexistent"}) {
    agree([&](Registry& r) { return r.by_name(name); }, "by_name " + name);
    for (Transport t : {Transport::kTcp, Transport::kUdp}) {
      agree([&](Registry& r) { return r.find(name, t); }, "find " + name);
    }
  }
  // Hand-checked answers, on both paths.
  Registry fresh;
  load(fresh);
  EXPECT_EQ(describe(fresh.by_port(7105, Transport::kTcp)).substr(0, 31),
            "range|a.services||7100-7110|tcp");
  EXPECT_EQ(warm.primary(7100, Transport::kTcp)->name, "range");  // earlier than `late`
  EXPECT_EQ(warm.find("g", Transport::kUdp)->alias_of, "gamma");
}

}  // namespace
}  // namespace sockscope
