// The pcap/pcapng reader and the link-layer decoders on generated files: every
// format variant and link type gives the same conversation; damaged files end with the
// results so far and a clear error.
#include <gtest/gtest.h>

#include "capture/capture_test_util.hpp"

namespace sockscope::testing {
namespace {

// One UDP exchange (query 30 bytes, reply 60) written with a given framing.
void exchange(CaptureWriter& w, std::uint32_t linktype, bool ipv6 = false,
              std::uint32_t interface = 0) {
  Packet q{.src = ipv6 ? v6("2001:db8::1") : v4("192.0.2.1"),
           .dst = ipv6 ? v6("2001:db8::53") : v4("192.0.2.53"),
           .protocol = 17,
           .sport = 45000,
           .dport = 53,
           .payload = 30};
  Packet r = q;
  std::swap(r.src, r.dst);
  std::swap(r.sport, r.dport);
  r.payload = 60;
  w.packet(at(1.25), frame(linktype, build_ip(q)), interface);
  w.packet(at(1.5), frame(linktype, build_ip(r)), interface);
}

void expect_exchange(const CaptureRun& run, bool ipv6 = false) {
  ASSERT_FALSE(run.open_error) << run.open_error->what();
  ASSERT_FALSE(run.read_error) << run.read_error->what();
  ASSERT_EQ(run.conversations.size(), 1u);
  const Conversation& c = run.conversations[0];
  const std::uint64_t header = ipv6 ? 48 : 28;
  EXPECT_EQ(c.pair.first.port, 45000);
  EXPECT_EQ(c.pair.second.port, 53);
  EXPECT_EQ(c.client, (DirectionStats{1, header + 30, 30}));
  EXPECT_EQ(c.server, (DirectionStats{1, header + 60, 60}));
  EXPECT_EQ(c.first_ns, at(1.25));
  EXPECT_EQ(c.last_ns, at(1.5));
}

class LinkTypeTest : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(LinkTypeTest, EveryFramingGivesTheSameConversation) {
  for (bool ipv6 : {false, true}) {
    if (GetParam() == 228 && ipv6) continue;  // LINKTYPE_IPV4 carries IPv4 only
    if (GetParam() == 229 && !ipv6) continue;
    CaptureWriter w(CaptureWriter::kPcapMicro, GetParam());
    exchange(w, GetParam(), ipv6);
    SCOPED_TRACE("linktype " + std::to_string(GetParam()) + (ipv6 ? " ipv6" : " ipv4"));
    expect_exchange(run_capture(w.bytes()), ipv6);
  }
}

INSTANTIATE_TEST_SUITE_P(All, LinkTypeTest,
                         ::testing::Values(1u, 0u, 108u, 101u, 12u, 14u, 228u, 229u, 113u, 276u));

TEST(ReaderTest, PcapByteOrdersAndResolutions) {
  for (auto format : {CaptureWriter::kPcapMicro, CaptureWriter::kPcapNano}) {
    for (bool big : {false, true}) {
      CaptureWriter w(format, 1, big);
      exchange(w, 1);
      SCOPED_TRACE(std::string(big ? "big" : "little") + (format ? " ns" : " us"));
      expect_exchange(run_capture(w.bytes()));
    }
  }
}

TEST(ReaderTest, PcapNgInterfacesResolutionsAndSkippedBlocks) {
  for (bool big : {false, true}) {
    CaptureWriter w(CaptureWriter::kPcapNg, 1, big);
    w.skippable_block();
    const std::uint32_t raw = w.add_interface(101, 9);          // nanoseconds
    const std::uint32_t sll = w.add_interface(113, 0x80 | 20);  // 2^-20 s units
    exchange(w, 101, false, raw);
    w.skippable_block();
    auto run = run_capture(w.bytes());
    expect_exchange(run);
    CaptureWriter w2(CaptureWriter::kPcapNg, 1, big);
    const std::uint32_t sll2 = w2.add_interface(113, 0x80 | 20);
    Packet q{.src = v4("192.0.2.1"),
             .dst = v4("192.0.2.53"),
             .protocol = 17,
             .sport = 45000,
             .dport = 53,
             .payload = 30};
    w2.packet(at(1.0), frame(113, build_ip(q)), sll2);
    auto run2 = run_capture(w2.bytes());
    ASSERT_EQ(run2.conversations.size(), 1u);
    EXPECT_EQ(run2.conversations[0].first_ns, at(1.0)) << "2^-20 units convert to ns";
    (void)sll;
  }
}

TEST(ReaderTest, PcapNgSimplePacketBlocks) {
  CaptureWriter w(CaptureWriter::kPcapNg, 1, false, 64);
  Packet q{.src = v4("192.0.2.1"),
           .dst = v4("192.0.2.53"),
           .protocol = 17,
           .sport = 45000,
           .dport = 53,
           .payload = 100};
  w.simple_packet(frame(1, build_ip(q)));
  auto run = run_capture(w.bytes());
  ASSERT_EQ(run.conversations.size(), 1u);
  EXPECT_EQ(run.conversations[0].client, (DirectionStats{1, 128, 100}));
}

TEST(ReaderTest, TruncatedFileKeepsResultsAndSaysWhere) {
  CaptureWriter w(CaptureWriter::kPcapMicro);
  exchange(w, 1);
  std::string bytes = w.bytes();
  bytes.resize(bytes.size() - 10);  // the reply record is cut
  auto run = run_capture(bytes);
  ASSERT_TRUE(run.read_error);
  EXPECT_EQ(run.read_error->code, Error::Code::kTruncated);
  EXPECT_NE(run.read_error->what().find("ends inside a packet record"), std::string::npos)
      << run.read_error->what();
  ASSERT_EQ(run.conversations.size(), 1u);
  EXPECT_EQ(run.conversations[0].client.packets, 1u);
  EXPECT_EQ(run.conversations[0].server.packets, 0u);
}

TEST(ReaderTest, DamagedRecordLengthStopsWithAnError) {
  CaptureWriter w(CaptureWriter::kPcapMicro);
  exchange(w, 1);
  std::string bytes = w.bytes();
  const std::size_t second = 24 + 16 + 72;  // file header, first record (14 + 58 bytes)
  bytes[second + 8] = '\xff';
  bytes[second + 11] = '\x7f';  // caplen ~2 GB
  auto run = run_capture(bytes);
  ASSERT_TRUE(run.read_error);
  EXPECT_NE(run.read_error->what().find("damaged record"), std::string::npos);
  EXPECT_EQ(run.stats.packets, 1u);
}

TEST(ReaderTest, NotACaptureIsUnsupported) {
  auto r = CaptureReader::from_memory("hello, this is text and not a capture");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Error::Code::kUnsupported);
  auto empty = CaptureReader::from_memory("");
  ASSERT_FALSE(empty);
  auto shortish = CaptureReader::from_memory(std::string("\xd4\xc3\xb2\xa1\x02\x00", 6));
  ASSERT_FALSE(shortish);
  EXPECT_EQ(shortish.error().code, Error::Code::kTruncated);
}

TEST(ReaderTest, ReadsFromAFileInBlocks) {
  // More than one 4 MiB buffer of records, through the real file path.
  CaptureWriter w(CaptureWriter::kPcapMicro);
  Packet p{.src = v4("10.1.0.1"),
           .dst = v4("10.1.0.2"),
           .protocol = 17,
           .sport = 40000,
           .dport = 9000,
           .payload = 1400};
  const Bytes f = frame(1, build_ip(p));
  const int n = 4000;  // ~5.8 MB
  for (int i = 0; i < n; ++i) w.packet(at(1.0 + i * 1e-4), f);
  const std::string path = ::testing::TempDir() + "/sockscope_reader_blocks.pcap";
  ASSERT_TRUE(w.write(path));
  auto reader = CaptureReader::open(path);
  ASSERT_TRUE(reader) << reader.error().what();
  std::vector<Conversation> out;
  ConversationTable table({}, [&](const Conversation& c) { out.push_back(c); });
  CaptureStats stats;
  read_capture(**reader, table, stats);
  table.finish();
  EXPECT_FALSE((*reader)->error());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].client.packets, std::uint64_t(n));
  EXPECT_EQ(out[0].client.payload_bytes, std::uint64_t(n) * 1400);
  EXPECT_EQ((*reader)->offset(), w.bytes().size());
  std::remove(path.c_str());
}

}  // namespace
}  // namespace sockscope::testing
