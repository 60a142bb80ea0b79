// `sockscope conversations --ipfix` read by the real collectors, each started the
// way a user starts it (the Debian binary on a loopback port, stopped by its pid):
// nfcapd + nfdump, nfacctd's print plugin, ipfixDump on the file form. Each must
// list exactly the directions sockscope's JSON reports, with its packets and IP
// bytes, IPv4 and IPv6. Skipped with the reason when a collector is not installed.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "capture/traffic_generator.hpp"
#include "support/json_lines.hpp"
#include "support/loopback_sockets.hpp"
#include "support/run_command.hpp"

extern char** environ;

namespace sockscope {
namespace {

namespace fs = std::filesystem;
using testing::run_command;
using testing::run_sockscope;

bool installed(const std::string& tool) {
  return run_command({"sh", "-c", "command -v " + tool}).exit_code == 0;
}

std::uint16_t free_udp_port() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
  socklen_t len = sizeof(sa);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  ::close(fd);
  return ntohs(sa.sin_port);
}

// Whether some socket has bound UDP `port` (the collector is ready).
bool udp_bound(std::uint16_t port) {
  char hex[8];
  std::snprintf(hex, sizeof(hex), ":%04X ", port);
  for (const char* table : {"/proc/net/udp", "/proc/net/udp6"}) {
    std::ifstream in(table);
    for (std::string line; std::getline(in, line);) {
      if (line.find(hex) != std::string::npos && line.find(hex) < 50) return true;
    }
  }
  return false;
}

// Whether the socket bound to UDP `port` has read every datagram sent to it (its
// receive queue, /proc/net/udp's rx_queue, is empty).
bool udp_drained(std::uint16_t port) {
  char hex[8];
  std::snprintf(hex, sizeof(hex), ":%04X ", port);
  for (const char* table : {"/proc/net/udp", "/proc/net/udp6"}) {
    std::ifstream in(table);
    for (std::string line; std::getline(in, line);) {
      if (line.find(hex) == std::string::npos || line.find(hex) >= 50) continue;
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues;
      fields >> slot >> local >> remote >> state >> queues;  // queues: tx:rx in hex
      const auto colon = queues.find(':');
      return colon != std::string::npos && std::stoul(queues.substr(colon + 1), nullptr, 16) == 0;
    }
  }
  return true;
}

// A collector run as a user runs it, in a process group of its own; stopped by its
// pid as Ctrl-C stops it (SIGINT: nfacctd ignores SIGTERM), then SIGKILL to the group.
class Collector {
 public:
  // Ready once `port` is bound and the log says `ready_text` (when given).
  Collector(std::vector<std::string> argv, const fs::path& log, std::uint16_t port,
            const std::string& ready_text = "") {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    if (posix_spawnp(&pid_, args[0], &actions, &attr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    auto ready = [&] {
      std::ifstream in(log);
      const std::string text((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
      return pid_ > 0 && udp_bound(port) && text.find(ready_text) != std::string::npos;
    };
    for (int i = 0; i < 200 && pid_ > 0 && !ready(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ready_ = ready();
  }
  ~Collector() { stop(); }
  bool ready() const { return ready_; }
  // Stops it and waits (at most 10 s) for it to write what it holds.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGINT);
    bool ended = false;
    for (int i = 0; i < 200 && !ended; ++i) {
      ended = ::waitpid(pid_, nullptr, WNOHANG) == pid_;
      if (!ended) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(-pid_, SIGKILL);  // whatever of the group is left (nfacctd's plugins)
    if (!ended) ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  bool ready_ = false;
};

// One direction as the collectors list it.
using Direction = std::tuple<std::string, int, std::string, int, int, std::uint64_t, std::uint64_t>;
using Directions = std::multiset<Direction>;

// An address in inet_ntop's form (ipfixDump writes IPv6 groups with their zeros).
std::string canonical(const std::string& text) {
  std::uint8_t bytes[16];
  char out[INET6_ADDRSTRLEN];
  const int family = text.find(':') == std::string::npos ? AF_INET : AF_INET6;
  if (::inet_pton(family, text.c_str(), bytes) != 1) return "bad address " + text;
  return ::inet_ntop(family, bytes, out, sizeof(out));
}

Direction direction(const std::string& src, int src_port, const std::string& dst, int dst_port,
                    int proto, std::uint64_t packets, std::uint64_t bytes) {
  return {canonical(src), src_port, canonical(dst), dst_port, proto, packets, bytes};
}

struct Exported {
  Directions directions;  // from sockscope's JSON: client -> server, server -> client
  std::size_t conversations = 0, v6 = 0;
};

// Runs the export of `capture` to `dest`, and returns what sockscope's JSON says.
Exported export_capture(const fs::path& capture, const std::string& dest,
                        std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"conversations", capture, "--json", "--ipfix", dest};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = run_sockscope(args, 120);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("; IPFIX: "), std::string::npos) << r.err;
  Exported e;
  for (const auto& j : testing::json_lines(r.out)) {
    const int proto = j["transport"] == "tcp" ? 6 : 17;
    const auto c = j["client"]["address"].get<std::string>();
    const auto s = j["server"]["address"].get<std::string>();
    const int cp = j["client"]["port"], sp = j["server"]["port"];
    const auto packets = j["client_packets"].get<std::uint64_t>();
    const auto reply_packets = j["server_packets"].get<std::uint64_t>();
    if (packets) e.directions.insert(direction(c, cp, s, sp, proto, packets, j["client_bytes"]));
    if (reply_packets) {
      e.directions.insert(direction(s, sp, c, cp, proto, reply_packets, j["server_bytes"]));
    }
    ++e.conversations;
    if (c.find(':') != std::string::npos) ++e.v6;
  }
  return e;
}

class IpfixCollectors : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sockscope-ipfix-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    capture_ = dir_ / "traffic.pcap";
    sockscope::testing::TrafficOptions o;  // IPv4 and IPv6, TCP and UDP, VLAN tags
    o.packets = 20'000;
    o.conversations = 1'500;
    std::FILE* f = std::fopen(capture_.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    sockscope::testing::generate_traffic(o, f);
    std::fclose(f);
  }
  void TearDown() override { fs::remove_all(dir_); }
  static std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  fs::path dir_, capture_;
};

TEST_F(IpfixCollectors, NfcapdListsEveryDirectionWithSockscopesCounts) {
  if (!installed("nfcapd") || !installed("nfdump")) GTEST_SKIP() << "nfcapd/nfdump not installed";
  const std::uint16_t port = free_udp_port();
  fs::create_directories(dir_ / "nf");
  // A receive buffer as a user gives a collector that takes bursts (capped by the
  // kernel at net.core.rmem_max): a loaded machine may not run nfcapd for a while.
  Collector nfcapd({"nfcapd", "-b", "127.0.0.1", "-p", std::to_string(port), "-w", dir_ / "nf",
                    "-t", "3600", "-B", "4194304"},
                   dir_ / "nfcapd.log", port);
  ASSERT_TRUE(nfcapd.ready()) << slurp(dir_ / "nfcapd.log");
  const Exported e = export_capture(capture_, "udp://127.0.0.1:" + std::to_string(port));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the last datagrams in
  nfcapd.stop();
  const std::string log = slurp(dir_ / "nfcapd.log");
  EXPECT_NE(log.find("Sequence Errors: 0,"), std::string::npos) << log;
  const auto dump = run_command({"nfdump", "-R", dir_ / "nf", "-o", "json"}, 60);
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  const auto flows = nlohmann::json::parse(dump.out);
  Directions got;
  for (const auto& f : flows) {
    const bool v6 = f.contains("src6_addr");
    got.insert(direction(f[v6 ? "src6_addr" : "src4_addr"].get<std::string>(), f["src_port"],
                         f[v6 ? "dst6_addr" : "dst4_addr"].get<std::string>(), f["dst_port"],
                         f["proto"], f["in_packets"], f["in_bytes"]));
  }
  EXPECT_GT(e.v6, 0u);
  EXPECT_GT(e.conversations - e.v6, 0u);
  EXPECT_EQ(got.size(), e.directions.size());
  EXPECT_TRUE(got == e.directions);
}

TEST_F(IpfixCollectors, NfacctdPrintPluginListsTheSameDirections) {
  if (!installed("nfacctd")) GTEST_SKIP() << "nfacctd (pmacct) not installed";
  const std::uint16_t port = free_udp_port();
  const fs::path out = dir_ / "pmacct.json";
  std::ofstream(dir_ / "nfacctd.conf")
      << "daemonize: false\nnfacctd_ip: 127.0.0.1\nnfacctd_port: "
      << port
      // Buffers between nfacctd's core and its plugin as pmacct's documentation
      // sizes them for bursts (the defaults drop records under a burst).
      << "\nplugin_pipe_size: 10240000\nplugin_buffer_size: 10240"
      << "\nplugins: print\nprint_output: json\nprint_output_file: " << out.string()
      << "\nprint_output_file_append: true\nprint_refresh_time: 3600\n"
      << "aggregate: src_host, dst_host, src_port, dst_port, proto, timestamp_start, "
         "timestamp_end\n";
  // Ready when its print plugin has set up its JSON output.
  Collector nfacctd({"nfacctd", "-f", dir_ / "nfacctd.conf"}, dir_ / "nfacctd.log", port,
                    "JSON: setting object handlers");
  ASSERT_TRUE(nfacctd.ready()) << slurp(dir_ / "nfacctd.log");
  // nfacctd's core reads each datagram and hands it to its plugin before the next: on
  // a loaded machine it falls behind a 20 MB/s sender and the kernel drops datagrams
  // at its socket buffer (each 9 kB message takes ~16 kB of it). Paced as a user
  // paces to a slow collector.
  const Exported e = export_capture(capture_, "udp://127.0.0.1:" + std::to_string(port),
                                    {"--ipfix-rate", "1000000"});
  // Until nfacctd has read every datagram (bounded: 10 s; a loaded machine is slow),
  // then a moment for its core to hand them to the plugin.
  for (int i = 0; i < 200 && !udp_drained(port); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  nfacctd.stop();  // the print plugin writes its cache on the way out
  Directions got;
  for (const auto& j : testing::json_lines(slurp(out))) {
    got.insert(direction(j["ip_src"].get<std::string>(), j["port_src"],
                         j["ip_dst"].get<std::string>(), j["port_dst"],
                         j["ip_proto"] == "tcp" ? 6 : 17, j["packets"], j["bytes"]));
  }
  EXPECT_EQ(got.size(), e.directions.size()) << slurp(dir_ / "nfacctd.log");
  EXPECT_TRUE(got == e.directions);
}

// ipfixDump's records: one map of element name to value text per data record.
std::vector<std::map<std::string, std::string>> dumped_records(const std::string& text) {
  std::vector<std::map<std::string, std::string>> records;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("--- data record")) records.emplace_back();
    const auto colon = line.find(" : ");
    if (records.empty() || line.find("\t(") != 0 || colon == std::string::npos) continue;
    std::istringstream fields(line.substr(line.find(')') + 1, colon - line.find(')') - 1));
    std::string name;
    fields >> name;
    records.back()[name] = line.substr(colon + 3);
  }
  return records;
}

TEST_F(IpfixCollectors, IpfixDumpReadsTheFileFormWithoutWarnings) {
  if (!installed("ipfixDump")) GTEST_SKIP() << "ipfixDump (libfixbuf-tools) not installed";
  const fs::path file = dir_ / "flows.ipfix";
  const Exported e = export_capture(capture_, "file:" + file.string());
  const auto dump = run_command({"ipfixDump", "--in", file, "--data"}, 60);
  ASSERT_EQ(dump.exit_code, 0);
  EXPECT_EQ(dump.err, "");
  Directions got;
  std::size_t tagged = 0;
  for (auto& r : dumped_records(dump.out)) {
    const bool v6 = r.contains("sourceIPv6Address");
    got.insert(direction(
        r[v6 ? "sourceIPv6Address" : "sourceIPv4Address"], std::stoi(r["sourceTransportPort"]),
        r[v6 ? "destinationIPv6Address" : "destinationIPv4Address"],
        std::stoi(r["destinationTransportPort"]), std::stoi(r["protocolIdentifier"]),
        std::stoull(r["packetDeltaCount"]), std::stoull(r["octetDeltaCount"])));
    tagged += r.contains("vlanId");
  }
  EXPECT_GT(tagged, 0u);
  EXPECT_TRUE(got == e.directions);
}

TEST_F(IpfixCollectors, IpfixDumpReadsBiflowRecords) {
  if (!installed("ipfixDump")) GTEST_SKIP() << "ipfixDump (libfixbuf-tools) not installed";
  const fs::path file = dir_ / "biflow.ipfix";
  const Exported e = export_capture(capture_, "file:" + file.string(), {"--ipfix-biflow"});
  const auto dump = run_command({"ipfixDump", "--in", file, "--data"}, 60);
  ASSERT_EQ(dump.exit_code, 0);
  EXPECT_EQ(dump.err, "");
  Directions got;
  for (auto& r : dumped_records(dump.out)) {
    const bool v6 = r.contains("sourceIPv6Address");
    const std::string src = r[v6 ? "sourceIPv6Address" : "sourceIPv4Address"];
    const std::string dst = r[v6 ? "destinationIPv6Address" : "destinationIPv4Address"];
    const int sp = std::stoi(r["sourceTransportPort"]),
              dp = std::stoi(r["destinationTransportPort"]);
    const int proto = std::stoi(r["protocolIdentifier"]);
    if (std::stoull(r["packetDeltaCount"])) {
      got.insert(direction(src, sp, dst, dp, proto, std::stoull(r["packetDeltaCount"]),
                           std::stoull(r["octetDeltaCount"])));
    }
    if (std::stoull(r["reversePacketDeltaCount"])) {
      got.insert(direction(dst, dp, src, sp, proto, std::stoull(r["reversePacketDeltaCount"]),
                           std::stoull(r["reverseOctetDeltaCount"])));
    }
  }
  EXPECT_TRUE(got == e.directions);
}

TEST(IpfixCli, MalformedDestinationsExitTwoWithOneLine) {
  const std::string sample = std::string(SOCKSCOPE_SOURCE_DIR) + "/data/sample.pcapng";
  for (const char* dest :
       {"udp://127.0.0.1:0", "sctp://127.0.0.1:4739", "udp://127.0.0.1", "127.0.0.1:4739"}) {
    const auto r = run_sockscope({"conversations", sample, "--ipfix", dest});
    EXPECT_EQ(r.exit_code, 2) << dest;
    EXPECT_EQ(r.out, "") << dest;
    EXPECT_EQ(testing::lines(r.err).size(), 1u) << r.err;
    EXPECT_NE(r.err.find("--ipfix"), std::string::npos) << r.err;
  }
}

TEST(IpfixCli, UnreachableCollectorKeepsTheLocalOutputAndReportsTheDrops) {
  const std::string sample = std::string(SOCKSCOPE_SOURCE_DIR) + "/data/sample.pcapng";
  std::uint16_t port = 0;
  const int holder = testing::refusing_port(port);  // held to the end: TCP is refused
  ASSERT_GE(holder, 0);
  const auto plain = run_sockscope({"conversations", sample, "--json"});
  const auto r = run_sockscope(
      {"conversations", sample, "--json", "--ipfix", "tcp://127.0.0.1:" + std::to_string(port)},
      60);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, plain.out);  // every row still written
  EXPECT_NE(r.err.find("78 records not delivered"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Connection refused"), std::string::npos) << r.err;
  ::close(holder);
}

}  // namespace
}  // namespace sockscope
