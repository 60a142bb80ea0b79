// The embedded table against IANA's own CSV (tests/data/iana, README there):
// regenerating gives the committed file byte for byte, every assigned
// port/transport pair of the CSV is found under IANA's name, every embedded
// record is a row of the CSV, and aliases are marked. Also against Debian's
// /usr/share/wireshark/services, the other source the generator accepts.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "sockscope/registry.hpp"
#include "support/run_command.hpp"

namespace sockscope {
namespace {

namespace fs = std::filesystem;

const fs::path kCsv =
    fs::path(SOCKSCOPE_SOURCE_DIR) / "tests" / "data" / "iana" / "service-names-port-numbers.csv";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// RFC 4180: quoted fields may hold commas, doubled quotes and newlines.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      rows.back().push_back(std::move(field));
      field.clear();
      rows.emplace_back();
    } else if (c != '\r') {
      field += c;
    }
  }
  if (!field.empty() || !rows.back().empty()) rows.back().push_back(std::move(field));
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

// Whitespace runs as single spaces, as the generator shows descriptions.
std::string clean(const std::string& s) {
  std::string out;
  std::istringstream words(s);
  for (std::string w; words >> w;) out += (out.empty() ? "" : " ") + w;
  return out;
}

struct Row {
  std::string name, description, reference, notes;
  PortRange ports;
  std::vector<Transport> transports;  // a blank transport stands for tcp and udp
};

std::vector<Row> named_rows_with_ports() {
  auto table = parse_csv(read_file(kCsv));
  EXPECT_GE(table.size(), 2u);
  EXPECT_EQ(table[0][0], "Service Name");
  std::vector<Row> rows;
  for (std::size_t i = 1; i < table.size(); ++i) {
    const auto& f = table[i];
    EXPECT_EQ(f.size(), 12u) << "CSV record " << i;
    if (f.size() != 12u || f[0].empty() || f[1].empty()) continue;
    Row r{f[0], clean(f[3]), clean(f[8]), f[11], *PortRange::parse(f[1]), {}};
    if (f[2].empty()) {
      r.transports = {Transport::kTcp, Transport::kUdp};
    } else {
      r.transports = {*parse_transport(f[2])};
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

// The CSV is part of the repository: a missing one is a broken checkout, not a skip.
#define REQUIRE_CSV() ASSERT_TRUE(fs::exists(kCsv)) << "IANA's CSV is not at " << kCsv

TEST(IanaCsvTest, RegeneratingTheTableGivesTheCommittedFile) {
  REQUIRE_CSV();
  if (std::system("python3 --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "no python3";
  const fs::path out =
      fs::temp_directory_path() / ("sockscope-iana-table-" + std::to_string(::getpid()) + ".inc");
  auto r =
      testing::run_command({"python3", std::string(SOCKSCOPE_SOURCE_DIR) + "/tools/gen-registry",
                            "--csv", kCsv.string(), "-o", out.string()},
                           60);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string fresh = read_file(out);
  const std::string committed =
      read_file(fs::path(SOCKSCOPE_SOURCE_DIR) / "src" / "registry" / "iana_table.inc");
  fs::remove(out);
  ASSERT_FALSE(committed.empty());
  EXPECT_TRUE(fresh == committed)
      << "src/registry/iana_table.inc differs from tools/gen-registry --csv " << kCsv
      << " (regenerate and commit it)";
}

TEST(IanaCsvTest, EveryAssignedPairIsFoundUnderIanasName) {
  REQUIRE_CSV();
  const Registry& iana = Registry::builtin();
  std::set<std::pair<Transport, Port>> pairs, covered, with_transport;
  std::size_t ranges = 0;
  for (const Row& row : named_rows_with_ports()) {
    ranges += row.ports.first != row.ports.last;
    for (Transport t : row.transports) {
      for (std::uint32_t p = row.ports.first; p <= row.ports.last; ++p) {
        pairs.insert({t, Port(p)});
        if (row.transports.size() == 1) with_transport.insert({t, Port(p)});
        for (const Service* s : iana.by_port(Port(p), t)) {
          if (s->name == row.name && s->ports == row.ports && s->source == "iana") {
            covered.insert({t, Port(p)});
          }
        }
      }
    }
  }
  std::cout << "IANA CSV: " << with_transport.size() << " assigned port/transport pairs ("
            << pairs.size() << " counting rows without a transport as tcp+udp), " << ranges
            << " named range rows; embedded table covers " << covered.size() << "\n";
  EXPECT_EQ(covered.size(), pairs.size());
  EXPECT_GE(covered.size(), Registry::builtin_source_pairs());
  EXPECT_GT(with_transport.size(), 11000u);  // sanity: the CSV parsed
}

TEST(IanaCsvTest, EveryEmbeddedRecordIsARowOfTheCsv) {
  REQUIRE_CSV();
  std::map<std::tuple<std::string, Transport, Port, Port>, const Row*> by_key;
  const auto rows = named_rows_with_ports();
  for (const Row& row : rows) {
    for (Transport t : row.transports) {
      by_key.emplace(std::tuple(row.name, t, row.ports.first, row.ports.last), &row);
    }
  }
  std::set<std::string> alias_names;
  for (std::size_t i = 0; i < Registry::builtin_size(); ++i) {
    const Service& s = Registry::builtin_service(i);
    auto it =
        by_key.find(std::tuple(std::string(s.name), s.transport, s.ports.first, s.ports.last));
    ASSERT_NE(it, by_key.end()) << s.name << " " << s.ports.to_string() << "/"
                                << to_string(s.transport);
    EXPECT_EQ(s.description, it->second->description) << s.name;
    EXPECT_EQ(s.reference, it->second->reference) << s.name;
    if (s.is_alias()) {
      alias_names.insert(std::string(s.name));
      const std::string& notes = it->second->notes;
      EXPECT_TRUE(notes.find("alias to \"" + std::string(s.alias_of) + "\"") != std::string::npos ||
                  notes.find("duplicate of the \"" + std::string(s.alias_of) + "\"") !=
                      std::string::npos)
          << s.name << " alias_of " << s.alias_of;
    }
  }
  // Every row the CSV calls an alias is marked as one.
  std::set<std::string> csv_alias_names;
  for (const Row& row : rows) {
    if (row.notes.find("This entry is an alias to") != std::string::npos ||
        row.notes.find("This is a duplicate of") != std::string::npos) {
      csv_alias_names.insert(row.name);
    }
  }
  EXPECT_EQ(alias_names, csv_alias_names);
  std::cout << alias_names.size() << " alias/duplicate names marked\n";
}

TEST(IanaCsvTest, ReservedRowsAreSaidAsSuch) {
  REQUIRE_CSV();
  auto table = parse_csv(read_file(kCsv));
  std::size_t checked = 0;
  for (std::size_t i = 1; i < table.size(); ++i) {
    const auto& f = table[i];
    if (f.size() != 12u || !f[0].empty() || f[1].empty() || clean(f[3]) != "Reserved") continue;
    const PortRange ports = *PortRange::parse(f[1]);
    for (Transport t : f[2].empty() ? std::vector{Transport::kTcp, Transport::kUdp}
                                    : std::vector{*parse_transport(f[2])}) {
      PortAnswer a = Registry::builtin().lookup(ports.first, t);
      if (!a.services.empty()) continue;  // a name elsewhere in the CSV wins
      EXPECT_EQ(a.status, PortStatus::kReserved) << f[1] << "/" << to_string(t);
      ++checked;
    }
  }
  EXPECT_GT(checked, 100u);
}

TEST(WiresharkServicesTest, EmbeddedTableCoversDebiansCopy) {
  const std::string path = "/usr/share/wireshark/services";
  if (!fs::exists(path)) GTEST_SKIP() << path << " absent (package libwireshark-data)";
  Registry wireshark;
  auto warnings = wireshark.load_services_file(path);
  ASSERT_TRUE(warnings.has_value()) << warnings.error().what();
  EXPECT_TRUE(warnings->empty()) << (*warnings)[0].what();
  std::set<std::pair<Transport, Port>> theirs, ours_of_theirs;
  for (std::size_t i = 0; i < wireshark.local_size(); ++i) {
    const Service& s = wireshark.local_service(i);
    for (std::uint32_t p = s.ports.first; p <= s.ports.last; ++p) {
      theirs.insert({s.transport, Port(p)});
      if (Registry::builtin().primary(Port(p), s.transport)) {
        ours_of_theirs.insert({s.transport, Port(p)});
      }
    }
  }
  // The generator reads the same file and counts the same pairs.
  if (std::system("python3 --version >/dev/null 2>&1") == 0) {
    const fs::path out = fs::temp_directory_path() /
                         ("sockscope-wireshark-table-" + std::to_string(::getpid()) + ".inc");
    auto r =
        testing::run_command({"python3", std::string(SOCKSCOPE_SOURCE_DIR) + "/tools/gen-registry",
                              "--services", path, "-o", out.string()},
                             60);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const std::string table = read_file(out);
    fs::remove(out);
    EXPECT_NE(table.find("kSourcePairs = " + std::to_string(theirs.size()) + ";"),
              std::string::npos);
  }
  std::cout << path << ": " << theirs.size() << " port/transport pairs, " << ours_of_theirs.size()
            << " of them named in the embedded table, which has "
            << Registry::builtin_source_pairs() << "\n";
  EXPECT_GE(Registry::builtin_source_pairs(), theirs.size());
  EXPECT_GE(ours_of_theirs.size() * 100, theirs.size() * 99);
}

}  // namespace
}  // namespace sockscope
