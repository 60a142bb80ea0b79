// BPF filters on files: a pcapng whose interfaces have different link types (Ethernet,
// Linux cooked, raw IP) is filtered interface by interface, each with the program
// compiled for its own link type, where libpcap alone refuses the file; compressed
// files are filtered too. Expectations by hand (which packets the filter names) and
// from tshark's display filter on the same file.
#include <gtest/gtest.h>
#include <unistd.h>

#include "capture/capture_test_util.hpp"
#include "sockscope/capture_live.hpp"
#include "support/run_command.hpp"

namespace sockscope::testing {
namespace {

// Three interfaces, each with a DNS exchange (UDP) and a TCP handshake of its own.
std::string mixed_link_capture() {
  CaptureWriter w(CaptureWriter::kPcapNg);  // interface 0: Ethernet
  const std::uint32_t sll = w.add_interface(113);
  const std::uint32_t raw = w.add_interface(101);
  std::uint64_t t = 1'000'000'000;
  const std::pair<std::uint32_t, std::uint32_t> interfaces[] = {{0, 1}, {sll, 113}, {raw, 101}};
  for (const auto& [interface, link] : interfaces) {
    const std::string net = "10." + std::to_string(link) + ".0.";
    const IpAddress c = *IpAddress::parse(net + "1"), s = *IpAddress::parse(net + "2");
    const Packet packets[] = {
        {.src = c, .dst = s, .protocol = 17, .sport = 41000, .dport = 53, .payload = 30},
        {.src = s, .dst = c, .protocol = 17, .sport = 53, .dport = 41000, .payload = 60},
        {.src = c, .dst = s, .protocol = 6, .sport = 40000, .dport = 443, .flags = kSyn},
        {.src = s, .dst = c, .protocol = 6, .sport = 443, .dport = 40000, .flags = kSyn | kAck},
    };
    for (const Packet& p : packets) w.packet(t += 1'000'000, frame(link, build_ip(p)), interface);
  }
  return w.bytes();
}

struct Filtered {
  std::vector<Conversation> conversations;
  CaptureStats stats;
  std::optional<Error> open_error, read_error;
};

Filtered filter_file(const std::string& path, const std::string& filter) {
  Filtered f;
  auto source = PcapSource::open_file(path, filter);
  if (!source) {
    f.open_error = source.error();
    return f;
  }
  ConversationTable table({}, [&](const Conversation& c) { f.conversations.push_back(c); });
  read_pcap(**source, table, f.stats);
  table.finish();
  f.read_error = (*source)->error();
  return f;
}

class PcapFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "/sockscope_filter_" + std::to_string(::getpid()) + ".pcapng";
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    const std::string bytes = mixed_link_capture();
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  }
  void TearDown() override {
    std::remove(path_.c_str());
    std::remove((path_ + ".zst").c_str());
  }
  std::string path_;
};

TEST_F(PcapFilterTest, EachInterfaceIsFilteredWithItsOwnLinkType) {
  const Filtered udp = filter_file(path_, "udp");
  ASSERT_FALSE(udp.open_error) << udp.open_error->what();
  EXPECT_FALSE(udp.read_error) << udp.read_error->what();
  EXPECT_EQ(udp.stats.packets, 6u);  // two per interface
  ASSERT_EQ(udp.conversations.size(), 3u);
  for (const auto& c : udp.conversations) {
    EXPECT_EQ(c.pair.transport, Transport::kUdp);
    EXPECT_EQ(c.client.packets, 1u);
    EXPECT_EQ(c.server.packets, 1u);
  }
  const Filtered one = filter_file(path_, "tcp and host 10.113.0.1");  // the SLL interface's
  ASSERT_FALSE(one.open_error);
  ASSERT_EQ(one.conversations.size(), 1u);
  EXPECT_EQ(one.conversations[0].pair.to_string(), "tcp 10.113.0.1:40000, 10.113.0.2:443");
  const Filtered all = filter_file(path_, "");
  EXPECT_EQ(all.stats.packets, 12u);
  EXPECT_EQ(all.conversations.size(), 6u);
}

TEST_F(PcapFilterTest, CompressedFilesAreFilteredToo) {
  auto z = run_command({"zstd", "-q", "-f", path_, "-o", path_ + ".zst"}, 60);
  if (z.exit_code != 0) GTEST_SKIP() << "zstd is not installed";
  const Filtered udp = filter_file(path_ + ".zst", "udp port 53");
  ASSERT_FALSE(udp.open_error) << udp.open_error->what();
  EXPECT_EQ(udp.stats.packets, 6u);
  EXPECT_EQ(udp.conversations.size(), 3u);
}

// A filter libpcap cannot compile at all is bad usage when the file is opened; one it
// cannot compile for an interface's link type is named with that link type.
TEST_F(PcapFilterTest, FilterErrorsSayWhatAndWhere) {
  const Filtered bad = filter_file(path_, "tcp port");
  ASSERT_TRUE(bad.open_error);
  EXPECT_EQ(bad.open_error->code, Error::Code::kBadSyntax);
  const Filtered ether = filter_file(path_, "ether host 02:00:00:00:00:01");
  ASSERT_FALSE(ether.open_error);
  ASSERT_TRUE(ether.read_error);
  EXPECT_NE(ether.read_error->what().find("link type 113"), std::string::npos)
      << ether.read_error->what();
}

// tshark reads such a file whole; its display filter and our BPF filter agree on how
// many packets are UDP, TCP, or to port 443.
TEST_F(PcapFilterTest, AgreesWithTsharkOnTheSameFile) {
  if (run_command({"tshark", "--version"}, 30).exit_code != 0) GTEST_SKIP() << "no tshark";
  for (const auto& [bpf, display] : std::vector<std::pair<std::string, std::string>>{
           {"udp", "udp"}, {"tcp", "tcp"}, {"port 443", "tcp.port == 443 || udp.port == 443"}}) {
    auto r = run_command(
        {"tshark", "-n", "-r", path_, "-Y", display, "-T", "fields", "-e", "frame.number"}, 60);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(filter_file(path_, bpf).stats.packets, lines(r.out).size()) << bpf;
  }
}

// The command: the filter on a pcapng with several link types, where it used to fail.
TEST_F(PcapFilterTest, CommandFiltersAMixedLinkTypeFile) {
  auto r = run_sockscope({"--json", "conv", "--filter", "udp", path_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(lines(r.out).size(), 3u) << r.out;
  EXPECT_NE(r.err.find("6 packets, 3 conversations (udp 3)"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sockscope::testing
