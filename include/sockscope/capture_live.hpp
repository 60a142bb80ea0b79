// sockscope/capture_live.hpp: packets from libpcap: live interfaces (with a BPF
// filter) and the capture files our own reader does not handle.
//
//   #include <iostream>
//   // Live: an interface, filtered in the kernel (needs CAP_NET_RAW); read_pcap() reads
//   // it until max_packets, max_seconds or stop().
//   auto live = PcapSource::open_live({.interface = "lo", .filter = "tcp", .max_packets = 100});
//   if (!live) std::cerr << live.error().what() << '\n';  // no such device, no permission
//   // Files too: the formats our own reader declines, or any with a filter.
//   auto dns = PcapSource::open_file("sample.pcapng", "udp port 53");
//   if (!dns) return 1;
//   auto print = [](const Conversation& c) { std::cout << c.pair.to_string() << '\n'; };
//   ConversationTable table({}, print);
//   CaptureStats stats;
//   read_pcap(**dns, table, stats);
//   table.finish();
//   std::cout << stats.packets << " packets\n";  // => 57 packets
//
// Link with sockscope::capture (libpcap).
#pragma once

#include <atomic>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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
  // A file ("-" = standard input), optionally filtered. pcap, pcapng and compressed
  // files are read by CaptureReader, each packet filtered with the BPF program compiled
  // for its own link type (a pcapng's interfaces may have different ones); other
  // formats by libpcap. kBadSyntax for a filter libpcap cannot compile.
  static std::expected<std::unique_ptr<PcapSource>, Error> open_file(const std::string& path,
                                                                     const std::string& filter);
  ~PcapSource();
  PcapSource(const PcapSource&) = delete;
  PcapSource& operator=(const PcapSource&) = delete;

  // The next packet; false at the end, on stop(), at a limit or on an error.
  bool next(RawPacket& out);
  // Ends next() soon; safe to call from a signal handler.
  void stop();
  const std::optional<Error>& error() const { return error_; }
  const std::string& name() const { return name_; }
  // Packets the kernel dropped (live capture), when libpcap knows.
  std::optional<std::uint64_t> kernel_drops() const;

  struct Program;  // internal: a BPF program compiled for one link type

 private:
  friend void read_pcap(PcapSource&, ConversationTable&, CaptureStats&);
  PcapSource();
  bool next_from_reader(RawPacket& out);
  const Program* program_for(std::uint32_t linktype);
  struct pcap* pcap_ = nullptr;
  std::unique_ptr<CaptureReader> reader_;  // files our reader takes
  std::string filter_;
  std::vector<std::unique_ptr<Program>> programs_;  // compiled per link type, when met
  std::string name_;
  std::optional<Error> error_;
  std::uint32_t linktype_ = 0;
  bool live_ = false;
  std::uint64_t max_packets_ = 0, count_ = 0;
  std::uint64_t deadline_ns_ = 0;
  std::atomic<bool> stopped_{false};
};

// Reads every packet of `source` into `table`, counting in `stats`.
void read_pcap(PcapSource& source, ConversationTable& table, CaptureStats& stats);

}  // namespace sockscope
