// sockscope/capture_live.hpp: packets from libpcap: live interfaces (with a BPF
// filter) and the capture files our own reader does not handle.
//
//   sockscope::LiveOptions live{.interface = "eth0", .filter = "tcp port 443"};
//   auto source = sockscope::PcapSource::open_live(live);
//   if (!source) return fail(source.error().what());   // no such device, no permission
//   sockscope::read_pcap(**source, table, stats);       // until stop() or the limits
//
// Link with sockscope::capture (libpcap).
#pragma once

#include <atomic>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "sockscope/capture.hpp"
#include "sockscope/capture_reader.hpp"
#include "sockscope/error.hpp"

namespace sockscope {

struct LiveOptions {
  std::string interface;          // "eth0", "any", "lo"
  std::string filter;             // BPF, as tcpdump takes it; "" = everything
  std::uint64_t max_packets = 0;  // stop after this many (0 = no limit)
  double max_seconds = 0;         // stop after this long (0 = no limit)
  int snaplen = 262144;
  bool promiscuous = false;
};

class PcapSource {
 public:
  static std::expected<std::unique_ptr<PcapSource>, Error> open_live(const LiveOptions& options);
  // A file through libpcap ("-" = stdin), optionally filtered.
  static std::expected<std::unique_ptr<PcapSource>, Error> open_file(const std::string& path,
                                                                     const std::string& filter);
  ~PcapSource();
  PcapSource(const PcapSource&) = delete;
  PcapSource& operator=(const PcapSource&) = delete;

  // The next packet; false at the end, on stop(), at a limit or on an error.
  bool next(RawPacket& out);
  // The same, but a live source also returns when no packet came for `idle_ms`:
  // then true with `idle` set and no packet (a quiet interface still reaches its
  // deadline, and the caller can act on the clock).
  bool next_or_idle(RawPacket& out, bool& idle, int idle_ms = 100);
  // Ends next() soon; safe to call from a signal handler.
  void stop();
  const std::optional<Error>& error() const { return error_; }
  const std::string& name() const { return name_; }
  // Packets the kernel dropped (live capture), when libpcap knows.
  std::optional<std::uint64_t> kernel_drops() const;

 private:
  PcapSource() = default;
  struct pcap* pcap_ = nullptr;
  std::string name_;
  std::optional<Error> error_;
  std::uint32_t linktype_ = 0;
  bool live_ = false;
  std::uint64_t max_packets_ = 0, count_ = 0;
  std::uint64_t deadline_ns_ = 0;
  int fd_ = -1;  // live: the descriptor to wait on (the handle is non-blocking)
  std::atomic<bool> stopped_{false};
};

// Reads every packet of `source` into `table`, counting in `stats`.
void read_pcap(PcapSource& source, ConversationTable& table, CaptureStats& stats);
// The same packet by packet (no batch held back: a conversation is emitted as soon
// as it ends), for live capture and pipes. `tick(now_ns)` runs about every
// `tick_ms` of wall-clock time, also while no packet comes (live capture ends
// silent conversations there: ConversationTable::expire).
void read_pcap_streaming(PcapSource& source, ConversationTable& table, CaptureStats& stats,
                         const std::function<void(std::uint64_t now_ns)>& tick, int tick_ms = 100);

}  // namespace sockscope
