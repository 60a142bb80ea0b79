// Compressed captures: files compressed by the real tools (gzip, zstd, lz4; zlib
// streams by zlib itself) give exactly the conversations and counters of the same
// capture uncompressed, from a file, from standard input and from memory; concatenated
// members, cut and damaged streams end as the command-line tools would have them end.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <fstream>
#include <sstream>

#include "capture/capture_test_util.hpp"
#include "capture/traffic_generator.hpp"
#include "support/run_command.hpp"

namespace sockscope::testing {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  return bool(out);
}

// A few MB of generated traffic: larger than the reader's and decompressors' buffers.
std::string capture_bytes(CaptureWriter::Format format) {
  TrafficOptions o;
  o.packets = 30'000;
  o.conversations = 1'500;
  o.concurrent = 300;
  o.snaplen = 1600;
  o.format = format;
  const std::string path = ::testing::TempDir() + "/sockscope_plain_" + std::to_string(::getpid());
  std::FILE* f = std::fopen(path.c_str(), "wb");
  generate_traffic(o, f);
  std::fclose(f);
  std::string bytes = slurp(path);
  std::remove(path.c_str());
  return bytes;
}

struct Read {
  std::vector<Conversation> conversations;
  CaptureStats stats;
  std::optional<Error> open_error, read_error;
  Compression compression = Compression::kNone;
  std::uint64_t input_offset = 0;
};

Read read_path(const std::string& path) {
  Read r;
  auto reader = CaptureReader::open(path);
  if (!reader) {
    r.open_error = reader.error();
    return r;
  }
  ConversationTable table({}, [&](const Conversation& c) { r.conversations.push_back(c); });
  read_capture(**reader, table, r.stats);
  table.finish();
  r.read_error = (*reader)->error();
  r.compression = (*reader)->compression();
  r.input_offset = (*reader)->input_offset();
  return r;
}

void expect_same(const std::vector<Conversation>& a, const std::vector<Conversation>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].pair, b[i].pair);
    EXPECT_EQ(a[i].client, b[i].client);
    EXPECT_EQ(a[i].server, b[i].server);
    EXPECT_EQ(a[i].history, b[i].history);
  }
}

std::string zlib_stream(const std::string& bytes) {
  uLongf size = compressBound(uLong(bytes.size()));
  std::string out(size, '\0');
  EXPECT_EQ(compress2(reinterpret_cast<Bytef*>(out.data()), &size,
                      reinterpret_cast<const Bytef*>(bytes.data()), uLong(bytes.size()), 6),
            Z_OK);
  out.resize(size);
  return out;
}

class CompressedReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* tool : {"gzip", "zstd", "lz4"}) {
      if (run_command({tool, "--version"}, 30).exit_code != 0) {
        GTEST_SKIP() << tool << " is not installed (Debian: gzip, zstd, lz4)";
      }
    }
    base_ = ::testing::TempDir() + "/sockscope_compressed_" + std::to_string(::getpid());
  }
  void TearDown() override {
    for (const auto& p : made_) std::remove(p.c_str());
  }
  // The capture compressed by `tool` (its stdout), written to a file of our own.
  std::string compressed_with(const std::vector<std::string>& tool, const std::string& plain,
                              const std::string& suffix) {
    const std::string in = base_ + ".pcap", out = base_ + suffix;
    made_.push_back(in);
    made_.push_back(out);
    EXPECT_TRUE(spit(in, plain));
    std::vector<std::string> argv = tool;
    argv.push_back(in);
    auto r = run_command(argv, 120);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(spit(out, r.out));
    return out;
  }
  std::string keep(const std::string& suffix, const std::string& bytes) {
    made_.push_back(base_ + suffix);
    EXPECT_TRUE(spit(made_.back(), bytes));
    return made_.back();
  }
  std::string base_;
  std::vector<std::string> made_;
};

TEST_F(CompressedReaderTest, EveryCompressionGivesTheUncompressedResults) {
  for (auto format : {CaptureWriter::kPcapMicro, CaptureWriter::kPcapNg}) {
    const std::string plain = capture_bytes(format);
    const Read want = read_path(keep(".plain", plain));
    ASSERT_FALSE(want.open_error);
    ASSERT_GT(want.conversations.size(), 1000u);
    const std::vector<std::pair<std::string, Compression>> files = {
        {compressed_with({"gzip", "-c"}, plain, ".gz"), Compression::kGzip},
        {compressed_with({"zstd", "-q", "-c"}, plain, ".zst"), Compression::kZstd},
        {compressed_with({"lz4", "-q", "-c"}, plain, ".lz4"), Compression::kLz4},
        {keep(".zlib", zlib_stream(plain)), Compression::kZlib},
    };
    for (const auto& [path, kind] : files) {
      SCOPED_TRACE(to_string(kind));
      const Read got = read_path(path);
      ASSERT_FALSE(got.open_error) << got.open_error->what();
      EXPECT_FALSE(got.read_error) << got.read_error->what();
      EXPECT_EQ(got.compression, kind);
      EXPECT_EQ(got.stats.packets, want.stats.packets);
      EXPECT_EQ(got.stats.wire_bytes, want.stats.wire_bytes);
      EXPECT_EQ(got.input_offset, slurp(path).size());  // progress reaches the file's size
      expect_same(got.conversations, want.conversations);
      // From memory and from a pipe the same.
      const std::string bytes = slurp(path);
      const CaptureRun mem = run_capture(bytes);
      ASSERT_FALSE(mem.open_error);
      expect_same(mem.conversations, want.conversations);
      auto piped = run_command({SOCKSCOPE_BINARY, "conv", "-"}, 60, bytes);
      EXPECT_EQ(piped.exit_code, 0) << piped.err;
      EXPECT_NE(piped.out.find(std::to_string(want.stats.packets) + " packets"), std::string::npos);
    }
  }
}

// gzip -c a b > ab.gz: members read one after the other, as zcat does; zstd's and
// lz4's concatenated frames likewise.
TEST_F(CompressedReaderTest, ConcatenatedMembersAndFramesAreOneStream) {
  const std::string plain = capture_bytes(CaptureWriter::kPcapMicro);
  const Read want = read_path(keep(".plain", plain));
  const std::size_t half = plain.size() / 2 + 7;  // inside a record: the stream is one
  const std::string a = plain.substr(0, half), b = plain.substr(half);
  for (const auto& tool : std::vector<std::vector<std::string>>{
           {"gzip", "-c"}, {"zstd", "-q", "-c"}, {"lz4", "-q", "-c"}}) {
    SCOPED_TRACE(tool[0]);
    const std::string joined =
        slurp(compressed_with(tool, a, ".a")) + slurp(compressed_with(tool, b, ".b"));
    const Read got = read_path(keep(".ab", joined));
    ASSERT_FALSE(got.open_error);
    EXPECT_FALSE(got.read_error) << got.read_error->what();
    expect_same(got.conversations, want.conversations);
  }
}

// A compressed file cut short keeps what was read and says where it ended; damaged
// data stops with a clear error; a compressed file that is not a capture is refused
// as one, and an empty compressed one as empty.
TEST_F(CompressedReaderTest, CutDamagedAndForeignStreams) {
  const std::string plain = capture_bytes(CaptureWriter::kPcapMicro);
  const Read want = read_path(keep(".plain", plain));
  const std::string zst = slurp(compressed_with({"zstd", "-q", "-c"}, plain, ".zst"));
  const Read cut = read_path(keep(".cut.zst", zst.substr(0, zst.size() / 2)));
  ASSERT_FALSE(cut.open_error);
  ASSERT_TRUE(cut.read_error);
  EXPECT_EQ(cut.read_error->code, Error::Code::kTruncated);
  EXPECT_NE(cut.read_error->what().find("zstd compressed data ends inside a frame"),
            std::string::npos)
      << cut.read_error->what();
  EXPECT_GT(cut.stats.packets, 1000u);

  // Damage: deflate may decode it into garbage the capture parser stops at, or zlib
  // finds it; either way a syntax error that names the compression.
  for (const auto& tool :
       std::vector<std::vector<std::string>>{{"gzip", "-c"}, {"zstd", "-q", "-c"}}) {
    std::string damaged = slurp(compressed_with(tool, plain, ".z"));
    for (std::size_t i = damaged.size() / 3; i < damaged.size() / 3 + 64; ++i) damaged[i] ^= 0x5a;
    const Read bad = read_path(keep(".bad", damaged));
    ASSERT_FALSE(bad.open_error);
    ASSERT_TRUE(bad.read_error) << tool[0];
    EXPECT_EQ(bad.read_error->code, Error::Code::kBadSyntax);
    EXPECT_NE(bad.read_error->what().find(tool[0] == "gzip" ? "gzip" : "zstd"), std::string::npos)
        << bad.read_error->what();
    EXPECT_LT(bad.stats.packets, want.stats.packets);
  }

  const Read text =
      read_path(compressed_with({"lz4", "-q", "-c"}, "not a capture at all\n", ".txt.lz4"));
  ASSERT_TRUE(text.open_error);
  EXPECT_EQ(text.open_error->code, Error::Code::kUnsupported);
  const Read empty = read_path(compressed_with({"gzip", "-c"}, "", ".empty.gz"));
  ASSERT_TRUE(empty.open_error);
  EXPECT_EQ(empty.open_error->code, Error::Code::kEmpty);
}

}  // namespace
}  // namespace sockscope::testing
