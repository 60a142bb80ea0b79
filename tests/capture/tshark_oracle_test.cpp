// tshark as the oracle: on a generated capture (TCP and UDP, IPv4 and IPv6, VLANs,
// snaplen 96), every conversation's packet counts per direction equal tshark's
// `-z conv,tcp -z conv,udp` table, and its IP and payload bytes per direction equal
// the sums of tshark's per-packet fields (its conversation table rounds bytes).
#include "capture/tshark_oracle.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "capture/capture_test_util.hpp"
#include "capture/traffic_generator.hpp"
#include "support/run_command.hpp"

namespace sockscope::testing {
namespace {

struct Sides {
  std::uint64_t ip_from_a = 0, ip_from_b = 0, payload_from_a = 0, payload_from_b = 0;
};

class TsharkOracleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_tshark()) GTEST_SKIP() << "tshark is not installed (Debian: tshark)";
    path_ = ::testing::TempDir() + "/sockscope_oracle_" + std::to_string(::getpid()) + ".pcap";
    TrafficOptions o;
    o.packets = 6000;
    o.conversations = 300;
    o.concurrent = 200;
    o.seed = 7;
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    generate_traffic(o, f);
    std::fclose(f);
    std::FILE* in = std::fopen(path_.c_str(), "rb");
    ASSERT_NE(in, nullptr);
    std::string bytes;
    char buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, in)) > 0;) bytes.append(buf, n);
    std::fclose(in);
    ours_ = run_capture(bytes);
  }
  void TearDown() override {
    if (!path_.empty()) std::remove(path_.c_str());
  }
  std::string path_;
  CaptureRun ours_;
};

TEST_F(TsharkOracleTest, PacketCountsPerDirectionMatchConvTables) {
  const auto theirs = tshark_conversations(path_);
  ASSERT_GT(theirs.size(), 250u);
  ASSERT_EQ(ours_.conversations.size(), theirs.size());
  for (const auto& c : ours_.conversations) {
    const ConvKey k = conv_key(c);
    auto it = theirs.find(k);
    ASSERT_NE(it, theirs.end()) << c.pair.to_string();
    const bool client_is_a = k.a == tshark_endpoint(c.pair.first);
    EXPECT_EQ(c.client.packets, client_is_a ? it->second.packets_from_a : it->second.packets_from_b)
        << c.pair.to_string();
    EXPECT_EQ(c.server.packets, client_is_a ? it->second.packets_from_b : it->second.packets_from_a)
        << c.pair.to_string();
  }
}

TEST_F(TsharkOracleTest, BytesPerDirectionMatchPerPacketFields) {
  auto r = run_command(
      {"tshark", "-n",          "-r", path_,         "-T", "fields",      "-E", "separator=,",
       "-e",     "ip.src",      "-e", "ipv6.src",    "-e", "ip.dst",      "-e", "ipv6.dst",
       "-e",     "tcp.srcport", "-e", "udp.srcport", "-e", "tcp.dstport", "-e", "udp.dstport",
       "-e",     "ip.len",      "-e", "ipv6.plen",   "-e", "tcp.len",     "-e", "udp.length"},
      120);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<ConvKey, Sides> theirs;
  std::uint64_t packets = 0;
  for (const auto& line : lines(r.out)) {
    std::vector<std::string> f;
    std::string field;
    std::istringstream in(line);
    while (std::getline(in, field, ',')) f.push_back(field);
    f.resize(12);
    const bool tcp = !f[4].empty();
    const std::string src = (f[0].empty() ? f[1] : f[0]) + ":" + (tcp ? f[4] : f[5]);
    const std::string dst = (f[2].empty() ? f[3] : f[2]) + ":" + (tcp ? f[6] : f[7]);
    const std::uint64_t ip = f[8].empty() ? 40 + std::stoull(f[9]) : std::stoull(f[8]);
    const std::uint64_t payload = tcp ? std::stoull(f[10]) : std::stoull(f[11]) - 8;
    ConvKey k = conv_key(tcp ? "tcp" : "udp", src, dst);
    Sides& s = theirs[k];
    if (k.a == src) {
      s.ip_from_a += ip;
      s.payload_from_a += payload;
    } else {
      s.ip_from_b += ip;
      s.payload_from_b += payload;
    }
    ++packets;
  }
  EXPECT_EQ(packets, ours_.stats.packets);
  ASSERT_EQ(ours_.conversations.size(), theirs.size());
  for (const auto& c : ours_.conversations) {
    const std::string client = tshark_endpoint(c.pair.first);
    ConvKey k =
        conv_key(std::string(to_string(c.pair.transport)), client, tshark_endpoint(c.pair.second));
    auto it = theirs.find(k);
    ASSERT_NE(it, theirs.end()) << c.pair.to_string();
    const Sides& s = it->second;
    const bool a = k.a == client;
    EXPECT_EQ(c.client.ip_bytes, a ? s.ip_from_a : s.ip_from_b) << c.pair.to_string();
    EXPECT_EQ(c.server.ip_bytes, a ? s.ip_from_b : s.ip_from_a) << c.pair.to_string();
    EXPECT_EQ(c.client.payload_bytes, a ? s.payload_from_a : s.payload_from_b)
        << c.pair.to_string();
    EXPECT_EQ(c.server.payload_bytes, a ? s.payload_from_b : s.payload_from_a)
        << c.pair.to_string();
  }
}

// Port reuse: a SYN after a FIN or RST close starts a new conversation for tshark
// (a new tcp.stream) and for sockscope; compared in order of their start.
TEST(TsharkOracleReuseTest, SynAfterCloseSplitsLikeTshark) {
  if (!have_tshark()) GTEST_SKIP() << "tshark is not installed (Debian: tshark)";
  Builder b;
  const char* c = "10.0.0.1";
  const char* s = "10.0.0.2";
  for (int k = 0; k < 3; ++k) {  // three connections on one socket pair, FIN closes
    const double t0 = 1 + k * 5;
    const std::uint32_t isn = 100 + 50000 * k;
    b.tcp(t0, c, 40010, s, 80, kSyn, isn, 0);
    b.tcp(t0 + .1, s, 80, c, 40010, kSyn | kAck, 500, isn + 1);
    b.tcp(t0 + .2, c, 40010, s, 80, kAck, isn + 1, 501);
    b.tcp(t0 + .3, c, 40010, s, 80, kPsh | kAck, isn + 1, 501, 100 + k);
    b.tcp(t0 + .6, c, 40010, s, 80, kFin | kAck, isn + 101 + k, 501);
    b.tcp(t0 + .7, s, 80, c, 40010, kFin | kAck, 501, isn + 102 + k);
    b.tcp(t0 + .8, c, 40010, s, 80, kAck, isn + 102 + k, 502);
  }
  b.tcp(20, c, 40011, s, 80, kSyn, 7, 0);  // rejected, then tried again
  b.tcp(20.1, s, 80, c, 40011, kRst | kAck, 0, 8);
  b.tcp(21, c, 40011, s, 80, kSyn, 7000, 0);
  b.tcp(21.1, s, 80, c, 40011, kSyn | kAck, 9, 7001);
  b.tcp(21.2, c, 40011, s, 80, kAck, 7001, 10);
  const std::string path =
      ::testing::TempDir() + "/sockscope_reuse_" + std::to_string(::getpid()) + ".pcap";
  ASSERT_TRUE(b.w.write(path));
  auto r = run_command({"tshark", "-n", "-r", path, "-q", "-z", "conv,tcp"}, 60);
  std::remove(path.c_str());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // (start, client->server frames, server->client frames) per conversation, by start.
  std::vector<std::tuple<double, std::uint64_t, std::uint64_t>> theirs, ours;
  for (const auto& line : lines(r.out)) {
    std::istringstream in(line);
    std::vector<std::string> t;
    for (std::string word; in >> word;) t.push_back(word);
    if (t.size() < 14 || t[1] != "<->") continue;
    ASSERT_TRUE(t[0].starts_with("10.0.0.1:")) << line;  // A is the client here
    theirs.emplace_back(std::stod(t[12]) + 1.0, std::stoull(t[6]), std::stoull(t[3]));
  }
  auto run = b.run();
  for (const auto& conv : run.conversations) {
    ours.emplace_back(double(conv.first_ns) / 1e9, conv.client.packets, conv.server.packets);
  }
  std::sort(theirs.begin(), theirs.end());
  std::sort(ours.begin(), ours.end());
  ASSERT_EQ(ours.size(), 5u);
  ASSERT_EQ(theirs.size(), ours.size()) << r.out;
  for (std::size_t i = 0; i < ours.size(); ++i) {
    EXPECT_NEAR(std::get<0>(theirs[i]), std::get<0>(ours[i]), 1e-6) << i;
    EXPECT_EQ(std::get<1>(theirs[i]), std::get<1>(ours[i])) << i;
    EXPECT_EQ(std::get<2>(theirs[i]), std::get<2>(ours[i])) << i;
  }
}

}  // namespace
}  // namespace sockscope::testing
