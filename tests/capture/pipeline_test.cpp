// read_capture() reads and decodes on the calling thread while a worker counts on the
// table. On generated traffic with hundreds of batches and thousands of interleaved
// conversations it must give exactly what the one-thread loop gives: the same
// conversations in the same order, the same counters. (Run under ThreadSanitizer too.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "capture/packet_loop.hpp"
#include "capture/traffic_generator.hpp"
#include "sockscope/capture_reader.hpp"

namespace sockscope::testing {
namespace {

struct Result {
  std::vector<Conversation> conversations;
  std::size_t before_finish = 0;  // emitted during the run (by the worker, when pipelined)
  CaptureStats stats;
};

// `vxlan`: none, "yes" (hashed outer source ports) or "fixed".
std::string generated(std::uint64_t packets, std::uint64_t conversations,
                      const std::string& vxlan = "", std::uint64_t seed = 7) {
  TrafficOptions o;
  o.vxlan = !vxlan.empty();
  o.vxlan_fixed_port = vxlan == "fixed";
  o.packets = packets;
  o.conversations = conversations;
  o.concurrent = 700;
  o.seed = seed;
  char* data = nullptr;
  std::size_t size = 0;
  std::FILE* f = ::open_memstream(&data, &size);
  generate_traffic(o, f);
  std::fclose(f);
  std::string bytes(data, size);
  std::free(data);
  return bytes;
}

template <class Feed>
Result run(const std::string& bytes, Feed&& feed) {
  Result r;
  auto reader = CaptureReader::from_memory(bytes);
  EXPECT_TRUE(reader);
  if (!reader) return r;
  ConversationOptions options;
  options.idle_timeout_ns = 200'000'000;    // 0.2 s: UDP conversations end mid-file
  options.tcp_close_delay_ns = 50'000'000;  // and closed TCP ones too
  ConversationTable table(options, [&](const Conversation& c) { r.conversations.push_back(c); });
  feed(**reader, table, r.stats);
  r.before_finish = r.conversations.size();
  table.finish();
  return r;
}

// The records of two pcap files of one link type merged in time order (ties: `a` first),
// under `a`'s file header.
std::string merged(const std::string& a, const std::string& b) {
  struct Record {
    std::uint64_t ts_us;
    std::string_view bytes;
  };
  const auto records = [](const std::string& file) {
    std::vector<Record> out;
    for (std::size_t at = 24; at + 16 <= file.size();) {
      std::uint32_t h[4];  // seconds, microseconds, captured length, length
      std::memcpy(h, file.data() + at, sizeof h);
      const std::size_t size = 16 + std::size_t(h[2]);
      out.push_back(
          {std::uint64_t(h[0]) * 1'000'000 + h[1], std::string_view(file).substr(at, size)});
      at += size;
    }
    return out;
  };
  const std::vector<Record> ra = records(a), rb = records(b);
  std::vector<Record> all;
  std::merge(ra.begin(), ra.end(), rb.begin(), rb.end(), std::back_inserter(all),
             [](const Record& x, const Record& y) { return x.ts_us < y.ts_us; });
  std::string out = a.substr(0, 24);
  for (const Record& r : all) out += r.bytes;
  return out;
}

// `per_record`: packets counted per record (2 in VXLAN: the outer one and the inner;
// 0: not checked).
void expect_same_results(const std::string& bytes, std::uint64_t per_record = 1) {
  const Result one = run(bytes, [](CaptureReader& reader, ConversationTable& t, CaptureStats& s) {
    capture_detail::feed_table(reader, t, s, [] {});
  });
  const Result two = run(bytes, [](CaptureReader& reader, ConversationTable& t, CaptureStats& s) {
    read_capture(reader, t, s);
  });
  ASSERT_GT(one.stats.packets, 150'000u);
  ASSERT_GT(one.conversations.size(), 5'000u);
  EXPECT_EQ(two.stats.packets, one.stats.packets);
  EXPECT_EQ(two.stats.decoded, one.stats.decoded);
  EXPECT_EQ(two.stats.wire_bytes, one.stats.wire_bytes);
  EXPECT_EQ(two.stats.dropped_total(), one.stats.dropped_total());
  EXPECT_EQ(two.stats.fragments, one.stats.fragments);
  ASSERT_EQ(two.conversations.size(), one.conversations.size());
  std::size_t differing = 0;
  for (std::size_t i = 0; i < one.conversations.size(); ++i) {
    const Conversation& a = one.conversations[i];
    const Conversation& b = two.conversations[i];
    const bool same = a.pair.to_string() == b.pair.to_string() && a.first_ns == b.first_ns &&
                      a.last_ns == b.last_ns && a.client == b.client && a.server == b.server &&
                      a.conn_state == b.conn_state && a.history == b.history && a.vlan == b.vlan &&
                      a.evidence == b.evidence && a.tunnel == b.tunnel;
    differing += !same;
  }
  EXPECT_EQ(differing, 0u);
  // Conversations ended during the run (timeouts, close delays), not only at finish().
  EXPECT_GT(one.before_finish, 1'000u);
  EXPECT_EQ(two.before_finish, one.before_finish);
  if (!per_record) return;
  std::uint64_t total = 0;
  for (const Conversation& c : one.conversations) total += c.packets();
  EXPECT_EQ(total, one.stats.decoded * per_record);
}

TEST(PipelineTest, SameResultsAsOneThread) { expect_same_results(generated(200'000, 6'000)); }

// All VXLAN: the table finds outer conversations through their inner ones, with keys
// from either loop, while outer conversations end and records are reused.
TEST(PipelineTest, SameResultsAsOneThreadInVxlan) {
  expect_same_results(generated(200'000, 6'000, "yes"), 2);
  expect_same_results(generated(200'000, 6'000, "fixed"), 2);
}

// Plain and VXLAN records interleaved at random: the reading thread makes keys a few
// packets behind, over runs of the common shape alone and over runs with records of
// other decoders (whose outer packets are left to the table), across batch ends.
TEST(PipelineTest, SameResultsAsOneThreadInMixedTraffic) {
  const std::string plain = generated(120'000, 4'000);
  const std::string vxlan = generated(60'000, 2'000, "yes", 11);
  const std::string both = merged(plain, vxlan);
  ASSERT_EQ(both.size(), plain.size() + vxlan.size() - 24);
  expect_same_results(both, 0);
}

}  // namespace
}  // namespace sockscope::testing
