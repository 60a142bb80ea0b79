// The loops `sockscope conversations` is compared with, and its own stages alone:
//   capture_loops read FILE     bare read() with a 1 MiB buffer walking record headers (floor)
//   capture_loops pcap FILE     libpcap's pcap_next_ex loop touching each packet
//   capture_loops decode FILE   our reader + packet decoders (as the read loop), no table
//   capture_loops table FILE    reader + decoder + conversation table, no output
// Each prints packets and seconds; bench/capture_compare.sh runs them beside the peers.
#include <fcntl.h>
#include <pcap/pcap.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "capture/packet_loop.hpp"  // the one-thread loop, for comparison
#include "sockscope/capture.hpp"
#include "sockscope/capture_reader.hpp"

namespace {

std::uint64_t read_floor(const char* path) {
  const int fd = ::open(path, O_RDONLY);
  if (fd < 0) return 0;
  constexpr std::size_t kBuf = 1 << 20;
  std::unique_ptr<unsigned char[]> buf(new unsigned char[kBuf]);
  std::size_t have = 0, pos = 24;  // skip the file header
  std::uint64_t packets = 0, sum = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf.get() + have, kBuf - have);
    if (n <= 0) break;
    have += std::size_t(n);
    while (pos + 16 <= have) {
      std::uint32_t caplen;
      std::memcpy(&caplen, buf.get() + pos + 8, 4);
      if (pos + 16 + caplen > have) break;
      sum += buf[pos + 16 + 23 < have ? pos + 16 + 23 : pos];
      pos += 16 + caplen;
      ++packets;
    }
    std::memmove(buf.get(), buf.get() + pos, have - pos);
    have -= pos;
    pos = 0;
  }
  ::close(fd);
  return packets + (sum & 0);
}

std::uint64_t pcap_loop_count(const char* path) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(path, err);
  if (!p) return 0;
  pcap_pkthdr* h;
  const u_char* data;
  std::uint64_t packets = 0, sum = 0;
  while (pcap_next_ex(p, &h, &data) == 1) {
    ++packets;
    sum += h->caplen > 23 ? data[23] : 0;
  }
  pcap_close(p);
  return packets + (sum & 0);
}

std::uint64_t decode_only(const char* path) {
  auto r = sockscope::CaptureReader::open(path);
  if (!r) return 0;
  sockscope::RawPacket raw;
  sockscope::PacketInfo info[sockscope::kMaxPacketsPerRecord];
  std::uint64_t packets = 0, ok = 0;
  while ((*r)->next(raw)) {
    ++packets;
    // As the read loop decodes: the common shape inline, the rest (tunnels too) in general.
    ok += sockscope::capture_detail::decode_common(raw, info[0]) ||
          sockscope::capture_detail::decode_vxlan_common(raw, info, nullptr) ||
          sockscope::decode_record(raw, info).count > 0;
  }
  return packets + (ok & 0);
}

// `one_thread`: decode and count on this thread (the loop live capture uses) instead
// of read_capture()'s two-thread pipeline.
std::uint64_t table_only(const char* path, bool one_thread) {
  auto r = sockscope::CaptureReader::open(path);
  if (!r) return 0;
  std::uint64_t conversations = 0;
  sockscope::ConversationTable table({}, [&](const sockscope::Conversation&) { ++conversations; });
  sockscope::CaptureStats stats;
  if (one_thread) {
    sockscope::capture_detail::feed_table(**r, table, stats, [] {});
  } else {
    sockscope::read_capture(**r, table, stats);
  }
  table.finish();
  std::fprintf(stderr, "%llu conversations, peak %zu live, %zu bytes each\n",
               (unsigned long long)conversations, table.peak_live(),
               sockscope::ConversationTable::bytes_per_conversation());
  return stats.packets;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: capture_loops read|pcap|decode|table|table1 FILE\n");
    return 2;
  }
  const std::string mode = argv[1];
  const auto start = std::chrono::steady_clock::now();
  const auto cpu = [](clockid_t clock) {
    timespec ts;
    ::clock_gettime(clock, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
  };
  std::uint64_t packets = mode == "read"     ? read_floor(argv[2])
                          : mode == "pcap"   ? pcap_loop_count(argv[2])
                          : mode == "decode" ? decode_only(argv[2])
                                             : table_only(argv[2], mode == "table1");
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // CPU time of this thread (reading, decoding) and of the others (read_capture()'s
  // table worker): on a busy machine these say more than the wall time.
  const double mine = cpu(CLOCK_THREAD_CPUTIME_ID), all = cpu(CLOCK_PROCESS_CPUTIME_ID);
  std::printf("%s: %llu packets in %.3f s (cpu: this thread %.3f s, others %.3f s)\n", mode.c_str(),
              (unsigned long long)packets, s, mine, all - mine);
  return packets ? 0 : 1;
}
