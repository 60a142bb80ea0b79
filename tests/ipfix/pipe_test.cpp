// `sockscope conversations - --ipfix` on a pipe that stays open: the records of the
// conversations that ended reach the collector (here the IPFIX file) within the
// export's one-second flush while the pipe is still open, and every record is
// there once the pipe ends. The table is the local output, so nothing else asks
// for the pipe to be read packet by packet.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "capture/traffic_generator.hpp"
#include "ipfix/decoder.hpp"
#include "support/background.hpp"

namespace sockscope {
namespace {

namespace fs = std::filesystem;

std::vector<std::uint8_t> slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Data records in the IPFIX file so far (whole messages only reach it).
std::size_t records_in(const fs::path& p) {
  ipfix::Decoder d;
  return d.decode(slurp(p)) ? d.records.size() : 0;
}

TEST(IpfixPipe, RecordsReachTheCollectorWhileThePipeIsOpenAndAllAtItsEnd) {
  const fs::path dir =
      fs::temp_directory_path() / ("sockscope-ipfix-pipe-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  // 10 s of traffic (2 ms between packets): with a 0.5 s close delay and a 1 s
  // timeout, conversations end all along the capture.
  testing::TrafficOptions t;
  t.packets = 5'000;
  t.conversations = 300;
  t.concurrent = 40;
  t.step_ns = 2'000'000;
  std::FILE* f = std::fopen((dir / "traffic.pcap").c_str(), "wb");
  ASSERT_NE(f, nullptr);
  testing::generate_traffic(t, f);
  std::fclose(f);
  const std::vector<std::uint8_t> capture = slurp(dir / "traffic.pcap");
  const fs::path flows = dir / "flows.ipfix";
  testing::Background child({SOCKSCOPE_BINARY, "conversations", "-", "--close-delay", "0.5",
                             "--timeout", "1", "--ipfix", "file:" + flows.string()},
                            /*stdin_pipe=*/true);
  const std::size_t half = capture.size() / 2;
  ASSERT_TRUE(child.write_stdin(capture.data(), half));
  // The pipe stays open: records of what ended in the first half come out anyway.
  std::size_t early = 0;
  for (int i = 0; i < 100 && early == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    early = records_in(flows);
  }
  EXPECT_GT(early, 0u) << "no record while the pipe was open; file bytes: " << slurp(flows).size()
                       << " capture " << capture.size();
  ASSERT_TRUE(child.write_stdin(capture.data() + half, capture.size() - half));
  child.close_stdin();
  ASSERT_EQ(child.wait(60), 0) << child.err();
  const std::string summary = child.out();  // the table ends with the summary
  std::smatch m;
  ASSERT_TRUE(std::regex_search(summary, m, std::regex("IPFIX: ([0-9]+) records"))) << summary;
  const std::size_t total = std::stoul(m[1]);
  EXPECT_GT(total, early);
  EXPECT_EQ(records_in(flows), total);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sockscope
