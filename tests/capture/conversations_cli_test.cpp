// The real `sockscope conversations` binary on generated captures: JSON Lines parsed
// by nlohmann::json against hand-computed values, CSV and Zeek conn.log shapes, the
// aggregations, stdin, and the exit codes and messages for bad input.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "capture/capture_test_util.hpp"
#include "support/run_command.hpp"

namespace sockscope::testing {
namespace {

using nlohmann::json;

class ConversationsCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Two clients of one web server (one with two connections), one DNS exchange.
    Builder b(CaptureWriter::kPcapNg);
    for (auto [client, port, t] :
         {std::tuple{"192.0.2.10", 40000, 10.0}, std::tuple{"192.0.2.10", 40001, 11.0},
          std::tuple{"192.0.2.11", 50000, 12.0}}) {
      const auto p = std::uint16_t(port);
      b.tcp(t, client, p, "192.0.2.80", 443, kSyn, 1000, 1);
      b.tcp(t + 0.25, "192.0.2.80", 443, client, p, kSyn | kAck, 1000, 1);
      b.tcp(t + 0.5, client, p, "192.0.2.80", 443, kAck, 1000, 1, 200);
    }
    b.udp(20.0, "192.0.2.10", 41000, "192.0.2.53", 53, 30);
    bytes_ = b.w.bytes();
    path_ = ::testing::TempDir() + "/sockscope_cli_" + std::to_string(::getpid()) + ".pcapng";
    ASSERT_TRUE(b.w.write(path_));
  }
  void TearDown() override { std::remove(path_.c_str()); }
  std::string bytes_, path_;
};

TEST_F(ConversationsCliTest, JsonLinesCarryTheContractFields) {
  auto r = run_sockscope({"--json", "conversations", path_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = lines(r.out);
  ASSERT_EQ(rows.size(), 4u);
  bool seen = false;
  for (const auto& row : rows) {
    json j = json::parse(row);
    if (j["client"]["port"] != 40001) continue;
    seen = true;
    EXPECT_EQ(j["transport"], "tcp");
    EXPECT_EQ(j["client"]["address"], "192.0.2.10");
    EXPECT_EQ(j["client"]["group"], "registered");
    EXPECT_EQ(j["server"]["address"], "192.0.2.80");
    EXPECT_EQ(j["server"]["port"], 443);
    EXPECT_EQ(j["role_evidence"], "handshake");
    EXPECT_EQ(j["service"], "https");
    EXPECT_DOUBLE_EQ(j["first"].get<double>(), 11.0);
    EXPECT_DOUBLE_EQ(j["last"].get<double>(), 11.5);
    EXPECT_DOUBLE_EQ(j["duration"].get<double>(), 0.5);
    EXPECT_EQ(j["client_packets"], 2);
    EXPECT_EQ(j["client_bytes"], 40 + 240);
    EXPECT_EQ(j["client_payload_bytes"], 200);
    EXPECT_EQ(j["server_packets"], 1);
    EXPECT_EQ(j["server_bytes"], 40);
    EXPECT_EQ(j["server_payload_bytes"], 0);
    EXPECT_EQ(j["conn_state"], "S1");
    EXPECT_EQ(j["history"], "ShD");
    EXPECT_TRUE(j["community_id"].get<std::string>().starts_with("1:"));
  }
  EXPECT_TRUE(seen);
  EXPECT_NE(r.err.find("10 packets, 4 conversations (tcp 3, udp 1)"), std::string::npos) << r.err;
}

TEST_F(ConversationsCliTest, TableIsSortedByBytesWithASummary) {
  auto r = run_sockscope({"conv", path_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = lines(r.out);
  ASSERT_EQ(rows.size(), 6u) << r.out;  // header, 4 conversations, summary
  EXPECT_TRUE(rows[0].starts_with("TRANSPORT"));
  EXPECT_NE(rows[1].find("https"), std::string::npos);
  EXPECT_NE(rows[4].find("192.0.2.53:53"), std::string::npos) << "the smallest comes last";
  EXPECT_EQ(rows[5], "10 packets, 4 conversations (tcp 3, udp 1)");
  auto by_first = run_sockscope({"conv", "--sort", "first", path_});
  EXPECT_NE(lines(by_first.out)[1].find("192.0.2.10:40000"), std::string::npos);
}

// --json streams rows as conversations end; with --sort it sorts them like the table.
TEST_F(ConversationsCliTest, MachineFormatsAreSortedWhenAsked) {
  auto r = run_sockscope({"--json", "conversations", "--sort", "packets", path_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = lines(r.out);
  ASSERT_EQ(rows.size(), 4u);
  std::vector<int> packets;
  for (const auto& row : rows) {
    json j = json::parse(row);
    packets.push_back(j["client_packets"].get<int>() + j["server_packets"].get<int>());
  }
  EXPECT_EQ(packets, (std::vector<int>{3, 3, 3, 1}));
  // Ties keep the order of the conversations' ends: the three https ones by client port.
  EXPECT_EQ(json::parse(rows[0])["client"]["port"], 40000);
  EXPECT_EQ(json::parse(rows[2])["client"]["port"], 50000);

  auto first = run_sockscope({"--csv", "conversations", "--sort", "first", path_});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto csv = lines(first.out);
  ASSERT_EQ(csv.size(), 5u);
  EXPECT_TRUE(csv[0].starts_with("transport,client_address"));
  EXPECT_TRUE(csv[1].starts_with("tcp,192.0.2.10,40000,")) << csv[1];
  EXPECT_TRUE(csv[4].starts_with("udp,192.0.2.10,41000,")) << csv[4];
}

// More conversations than one hand-over chunk of the streaming output (2,048: the
// chunks are reused) and than one chunk of the collected store (~11,400: the sorted
// outputs index across chunks): every path gives every conversation, the sorted ones
// in the order a stable sort by bytes gives, worked out here from the sizes sent.
TEST(ConversationsCliManyTest, EveryOutputPathKeepsEveryConversationInOrder) {
  constexpr int kCount = 12'000;
  Builder b;
  std::vector<std::uint64_t> bytes(kCount);
  std::vector<std::string> clients(kCount);
  for (int i = 0; i < kCount; ++i) {
    const std::uint32_t payload = std::uint32_t(i) * 7919u % 200u;  // many ties
    clients[i] = "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
    // Within the 60 s UDP timeout: all end together at the end of the file, by first packet.
    b.udp(1.0 + i * 0.001, clients[i].c_str(), std::uint16_t(40000 + i % 1000), "192.0.2.53", 53,
          payload);
    bytes[i] = 20 + 8 + payload;
  }
  const std::string path =
      ::testing::TempDir() + "/sockscope_many_" + std::to_string(::getpid()) + ".pcap";
  ASSERT_TRUE(b.w.write(path));
  std::vector<int> order(kCount);
  for (int i = 0; i < kCount; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return bytes[x] > bytes[y]; });
  const auto client_of = [](const json& j) {
    return j["client"]["address"].get<std::string>() + ":" +
           std::to_string(j["client"]["port"].get<int>());
  };
  const auto expected_client = [&](int i) {
    return clients[i] + ":" + std::to_string(40000 + i % 1000);
  };

  // Streamed as the conversations end (here: all at the end, by first packet).
  auto streamed = run_sockscope({"--json", "conversations", path});
  ASSERT_EQ(streamed.exit_code, 0) << streamed.err;
  auto rows = lines(streamed.out);
  ASSERT_EQ(rows.size(), std::size_t(kCount));
  for (int i = 0; i < kCount; i += 997) {
    const json j = json::parse(rows[i]);
    EXPECT_EQ(client_of(j), expected_client(i));
    EXPECT_EQ(j["client_bytes"].get<std::uint64_t>(), bytes[i]);
  }
  EXPECT_EQ(client_of(json::parse(rows.back())), expected_client(kCount - 1));

  // Collected, then sorted.
  auto sorted = run_sockscope({"--json", "conversations", "--sort", "bytes", path});
  ASSERT_EQ(sorted.exit_code, 0) << sorted.err;
  rows = lines(sorted.out);
  ASSERT_EQ(rows.size(), std::size_t(kCount));
  for (int k = 0; k < kCount; ++k) {
    const json j = json::parse(rows[k]);
    ASSERT_EQ(client_of(j), expected_client(order[k])) << "row " << k;
  }

  // The table: a header, every row in the same order, the summary.
  auto table = run_sockscope({"conv", path});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  rows = lines(table.out);
  ASSERT_EQ(rows.size(), std::size_t(kCount + 2));
  EXPECT_TRUE(rows[0].starts_with("TRANSPORT")) << rows[0];
  for (int k : {0, 1, 5000, kCount - 1}) {
    EXPECT_NE(rows[k + 1].find(" " + expected_client(order[k]) + " "), std::string::npos)
        << rows[k + 1];
  }
  EXPECT_NE(rows.back().find("12000 packets, 12000 conversations (udp 12000)"), std::string::npos)
      << rows.back();
  std::remove(path.c_str());
}

TEST_F(ConversationsCliTest, CsvHasAHeaderAndOneRowPerConversation) {
  auto r = run_sockscope({"--csv", "conv", path_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = lines(r.out);
  ASSERT_EQ(rows.size(), 5u);
  // Endpoints flattened as in JSON: client_address, client_port, client_group, ...
  EXPECT_TRUE(rows[0].starts_with(
      "transport,client_address,client_port,client_group,server_address,server_port,"
      "server_group,role_evidence,service,vlan,first,last,duration,"))
      << rows[0];
  EXPECT_TRUE(rows[0].ends_with(
      ",evicted_early,history_truncated,missed_bytes,tunnel,tunnel_parent,icmp_error"))
      << rows[0];
  const auto columns = std::count(rows[0].begin(), rows[0].end(), ',');
  for (const auto& row : rows) EXPECT_EQ(std::count(row.begin(), row.end(), ','), columns);
}

TEST_F(ConversationsCliTest, ZeekConnLogHeaderMatchesItsColumns) {
  auto r = run_sockscope({"conv", "--zeek", path_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = lines(r.out);
  ASSERT_GE(rows.size(), 10u);
  EXPECT_EQ(rows[0], "#separator \\x09");
  std::vector<std::string> fields, types;
  std::size_t records = 0;
  for (const auto& row : rows) {
    auto split = [](const std::string& s) {
      std::vector<std::string> out;
      std::size_t start = 0;
      for (std::size_t tab; (tab = s.find('\t', start)) != std::string::npos; start = tab + 1) {
        out.push_back(s.substr(start, tab - start));
      }
      out.push_back(s.substr(start));
      return out;
    };
    auto cells = split(row);
    if (cells[0] == "#fields") fields.assign(cells.begin() + 1, cells.end());
    if (cells[0] == "#types") types.assign(cells.begin() + 1, cells.end());
    if (row[0] == '#') continue;
    ++records;
    ASSERT_EQ(cells.size(), fields.size()) << row;
    if (cells[3] == "40000") {  // the zeek-cut view of one record
      EXPECT_EQ(cells[0], "10.000000");
      EXPECT_EQ(cells[2], "192.0.2.10");
      EXPECT_EQ(cells[4], "192.0.2.80");
      EXPECT_EQ(cells[5], "443");
      EXPECT_EQ(cells[6], "tcp");
      EXPECT_EQ(cells[7], "-");          // Zeek's service is confirmed by content: not inspected
      EXPECT_EQ(cells.back(), "https");  // port_service: the registry's name for 443
      EXPECT_EQ(cells[8], "0.500000");
      EXPECT_EQ(cells[11], "S1");
      EXPECT_EQ(cells[15], "ShD");
      EXPECT_EQ(cells[16], "2");
      EXPECT_EQ(cells[17], "280");
    }
  }
  EXPECT_EQ(records, 4u);
  EXPECT_EQ(fields.size(), types.size());
  EXPECT_EQ(fields[0], "ts");
  EXPECT_EQ(fields[11], "conn_state");
  EXPECT_TRUE(rows.back().starts_with("#close\t"));
}

TEST_F(ConversationsCliTest, AggregationsByServerAndClient) {
  auto server = run_sockscope({"--json", "conv", "--by", "server", path_});
  ASSERT_EQ(server.exit_code, 0) << server.err;
  json web = json::parse(lines(server.out)[0]);
  EXPECT_EQ(web["server"]["address"], "192.0.2.80");  // an endpoint is an object everywhere
  EXPECT_EQ(web["server"]["port"], 443);
  EXPECT_EQ(web["server"]["group"], "well-known");
  EXPECT_EQ(web["service"], "https");
  EXPECT_EQ(web["conversations"], 3);
  EXPECT_EQ(web["client_hosts"], 2);
  EXPECT_EQ(web["packets"], 9);
  auto client =
      run_sockscope({"--json", "conv", "--by", "client", "--sort", "conversations", path_});
  ASSERT_EQ(client.exit_code, 0) << client.err;
  json first = json::parse(lines(client.out)[0]);
  EXPECT_EQ(first["client"], "192.0.2.10");
  EXPECT_EQ(first["conversations"], 3);  // two to the web server, one DNS query
  EXPECT_EQ(first["client_ports"], 3);
  EXPECT_EQ(first["servers"], 2);
}

TEST_F(ConversationsCliTest, ReadsStandardInput) {
  auto r = run_command({SOCKSCOPE_BINARY, "--json", "conv", "-"}, 30, bytes_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(lines(r.out).size(), 4u);
}

TEST_F(ConversationsCliTest, TruncatedFileKeepsResultsAndSaysSo) {
  const std::string cut = path_ + ".cut";
  {
    std::FILE* f = std::fopen(cut.c_str(), "wb");
    std::fwrite(bytes_.data(), 1, bytes_.size() - 20, f);
    std::fclose(f);
  }
  auto r = run_sockscope({"--json", "conv", cut});
  std::remove(cut.c_str());
  EXPECT_EQ(r.exit_code, 0) << "results were read";
  EXPECT_EQ(lines(r.out).size(), 3u) << "the DNS record was cut away";
  EXPECT_NE(r.err.find("file ends inside a pcapng block"), std::string::npos) << r.err;
}

TEST_F(ConversationsCliTest, BpfFilterGoesThroughLibpcap) {
  auto r = run_sockscope({"--json", "conv", "--filter", "udp", path_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = lines(r.out);
  ASSERT_EQ(rows.size(), 1u) << r.out;
  json dns = json::parse(rows[0]);
  EXPECT_EQ(dns["server"]["port"], 53);
  EXPECT_EQ(dns["client_bytes"], 58);
  EXPECT_NE(r.err.find("1 packets, 1 conversations (udp 1)"), std::string::npos) << r.err;
}

// Live capture on loopback through libpcap: our own datagrams between two 127.77.x
// addresses (nobody else uses them), counted exactly.
TEST(ConversationsCliLive, LoopbackDatagramsBecomeOneConversation) {
  if (::geteuid() != 0) GTEST_SKIP() << "live capture needs root (CAP_NET_RAW)";
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = htonl(0x7f4d0001);  // 127.77.0.1
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local), 0);
  socklen_t len = sizeof local;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
  sockaddr_in peer{};
  peer.sin_family = AF_INET;
  peer.sin_addr.s_addr = htonl(0x7f4d0002);  // 127.77.0.2
  peer.sin_port = htons(39999);
  // One datagram every 100 ms until the capture (which stops after 5) has ended: the
  // ones sent before libpcap was ready are simply not seen.
  std::atomic<bool> done{false};
  std::thread sender([&] {
    const char payload[100] = {};
    for (int i = 0; i < 300 && !done; ++i) {
      ::sendto(fd, payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&peer), sizeof peer);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  // The source port in the filter too: another run of this suite (another build's)
  // may be sending on the same addresses at the same time.
  const std::string filter = "udp and src host 127.77.0.1 and src port " +
                             std::to_string(ntohs(local.sin_port)) + " and dst port 39999";
  auto r = run_sockscope({"--json", "conv", "--interface", "lo", "--filter", filter, "--count", "5",
                          "--duration", "20"},
                         40);
  done = true;
  sender.join();
  ::close(fd);
  if (r.exit_code == 3 && r.err.find("ermission") != std::string::npos) {
    GTEST_SKIP() << "capture not permitted here: " << r.err;
  }
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = lines(r.out);
  ASSERT_EQ(rows.size(), 1u) << r.out;
  json c = json::parse(rows[0]);
  EXPECT_EQ(c["transport"], "udp");
  EXPECT_EQ(c["client"]["address"], "127.77.0.1");
  EXPECT_EQ(c["client"]["port"], ntohs(local.sin_port));
  EXPECT_EQ(c["server"]["address"], "127.77.0.2");
  EXPECT_EQ(c["server"]["port"], 39999);
  EXPECT_EQ(c["client_packets"], 5);
  EXPECT_EQ(c["client_bytes"], 5 * (20 + 8 + 100));
  EXPECT_EQ(c["client_payload_bytes"], 500);
  EXPECT_EQ(c["server_packets"], 0);
}

TEST(ConversationsCliErrors, BadInputAndNoInput) {
  auto none = run_sockscope({"conv"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("--sample"), std::string::npos);
  auto missing = run_sockscope({"conv", "/nonexistent/x.pcap"});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find("cannot open /nonexistent/x.pcap"), std::string::npos);
  const std::string text = ::testing::TempDir() + "/sockscope_not_a_capture.txt";
  {
    std::FILE* f = std::fopen(text.c_str(), "wb");
    std::fputs("this is not a capture file at all\n", f);
    std::fclose(f);
  }
  auto bad = run_sockscope({"conv", text});
  std::remove(text.c_str());
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_EQ(lines(bad.err).size(), 1u) << "one line naming the file: " << bad.err;
  auto by = run_sockscope({"conv", "--by", "port", "x.pcap"});
  EXPECT_EQ(by.exit_code, 2);
  auto filter = run_sockscope({"conv", "--filter", "tcp port", "x.pcap"});
  EXPECT_NE(filter.exit_code, 0);
}

// Live capture as an ordinary user: one line saying what it needs, exit 3.
TEST(ConversationsCliErrors, LiveCaptureWithoutPermissionSaysWhatItNeeds) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch to nobody";
  auto r = run_command({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        SOCKSCOPE_BINARY, "conv", "-i", "lo", "--duration", "1"});
  if (r.exit_code == 126 || r.exit_code == 127) GTEST_SKIP() << "cannot run as nobody: " << r.err;
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("interface lo: live capture needs root or CAP_NET_RAW"), std::string::npos)
      << r.err;
  EXPECT_EQ(lines(r.err).size(), 1u) << r.err;
}

// Several files, one missing: the others are read and reported, the missing one
// named and the run fails (exit 3), rather than a silent success.
TEST_F(ConversationsCliTest, OneMissingFileAmongSeveralFailsTheRun) {
  auto r = run_sockscope({"--json", "conv", path_, "/nonexistent/x.pcap"});
  EXPECT_EQ(r.exit_code, 3);
  auto alone = run_sockscope({"--json", "conv", path_});
  EXPECT_EQ(r.out, alone.out) << "the readable file's conversations are all there";
  EXPECT_NE(r.err.find("not read: '/nonexistent/x.pcap'"), std::string::npos) << r.err;
}

TEST(ConversationsCliSample, ShippedSampleIsReadable) {
  auto r = run_sockscope({"--json", "conv", "--sample"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(lines(r.out).size(), 40u);
  EXPECT_NE(r.err.find("429 packets, 40 conversations"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sockscope::testing
