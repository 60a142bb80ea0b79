// Per-packet costs of the capture core: decoding one frame, and counting decoded
// packets on a table of 1 k / 100 k / 500 k live conversations (random order, so
// the big tables miss the caches as real traffic does).
#include <benchmark/benchmark.h>

#include <vector>

#include "capture/capture_writer.hpp"
#include "sockscope/capture.hpp"
#include "sockscope/capture_reader.hpp"

namespace {

using namespace sockscope;
using namespace sockscope::testing;

void BM_DecodeFrame(benchmark::State& state) {
  Packet p{.src = state.range(0) ? v6("2001:db8::1") : v4("10.0.0.1"),
           .dst = state.range(0) ? v6("2001:db8::2") : v4("10.0.0.2"),
           .protocol = 6,
           .sport = 40000,
           .dport = 443,
           .flags = kAck,
           .payload = 500,
           .tcp_options = 12};
  const Bytes f = frame(1, build_ip(p), {10});
  RawPacket raw{.ts_ns = 1,
                .caplen = 96,
                .wire_len = std::uint32_t(f.size()),
                .linktype = 1,
                .data = f.data()};
  PacketInfo info;
  DropReason why;
  for (auto _ : state) {
    benchmark::DoNotOptimize(decode_packet(raw, info, why));
  }
}
BENCHMARK(BM_DecodeFrame)->Arg(0)->Arg(1)->ArgName("ipv6");

void BM_TableAdd(benchmark::State& state) {
  const std::size_t conversations = std::size_t(state.range(0));
  std::vector<PacketInfo> packets(1 << 16);
  std::uint64_t x = 12345;
  for (auto& p : packets) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    const std::uint32_t id = std::uint32_t((x >> 33) % conversations);
    p.transport = Transport::kUdp;
    p.protocol = 17;
    p.src[0] = 10;
    p.src[1] = std::uint8_t(id >> 16);
    p.src[2] = std::uint8_t(id >> 8);
    p.src[3] = std::uint8_t(id);
    p.dst[0] = 198;
    p.dst[3] = 1;
    p.src_port = 40000;
    p.dst_port = 53;
    p.ip_bytes = 100;
    p.payload_bytes = 72;
  }
  ConversationTable table({}, {});
  std::uint64_t now = 1'000'000'000;
  for (auto& p : packets) p.ts_ns = now;
  for (std::size_t i = 0; i < conversations; ++i) {  // fill the table first
    PacketInfo p = packets[0];
    p.src[1] = std::uint8_t(i >> 16);
    p.src[2] = std::uint8_t(i >> 8);
    p.src[3] = std::uint8_t(i);
    table.add(p);
  }
  std::size_t at = 0;
  for (auto _ : state) {
    table.add_batch(&packets[at], ConversationTable::kBatch);
    at = (at + ConversationTable::kBatch) & (packets.size() - 1);
  }
  state.SetItemsProcessed(std::int64_t(state.iterations()) * ConversationTable::kBatch);
}
BENCHMARK(BM_TableAdd)->Arg(1000)->Arg(100000)->Arg(500000)->ArgName("conversations");

}  // namespace

BENCHMARK_MAIN();
