// sockscope/capture_input.hpp: packets from where the user says, into a
// ConversationTable: a capture file ("-" = standard input) or a live interface.
//
//   #include <iostream>
//   auto input = CaptureInput::open_file("sample.pcapng", "tcp port 25");  // a BPF filter: libpcap
//   if (!input) {  // missing, unreadable, not a capture, a bad filter
//     std::cerr << input.error().what() << '\n';
//     return 1;
//   }
//   std::size_t smtp = 0;
//   ConversationTable table({}, [&](const Conversation&) { ++smtp; });
//   CaptureStats stats;
//   (*input)->read(table, stats);  // every packet, counted in stats
//   table.finish();
//   if ((*input)->error()) std::cerr << (*input)->error()->what() << '\n';  // damaged: counts kept
//   // BPF does not look behind VLAN tags ("vlan and tcp port 25"): 2 more are tagged.
//   std::cout << stats.packets << " packets, " << smtp << " smtp conversations\n";
//   // => 68 packets, 5 smtp conversations
//
// Files go through sockscope's own pcap/pcapng reader (large read() calls, two
// threads) unless a BPF filter is asked for or the file is in a format it declines;
// then through libpcap, which also does live capture. Error codes tell usage from
// runtime failures: kBadSyntax (the filter), kUnsupported/kEmpty/kTruncated (not a
// capture), kIo/kPermission (cannot be read).
// Thread safety: one thread reads; stop() may come from a signal handler.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "sockscope/capture.hpp"
#include "sockscope/capture_live.hpp"
#include "sockscope/capture_reader.hpp"
#include "sockscope/error.hpp"

namespace sockscope {

class CaptureInput {
 public:
  static std::expected<std::unique_ptr<CaptureInput>, Error> open_file(
      const std::string& path, const std::string& filter = {});
  static std::expected<std::unique_ptr<CaptureInput>, Error> open_interface(
      const LiveOptions& options);
  ~CaptureInput();
  CaptureInput(const CaptureInput&) = delete;
  CaptureInput& operator=(const CaptureInput&) = delete;

  // Feeds every packet to `table` (until the end, stop() or a live limit);
  // `progress` is called now and then with the bytes read so far (files).
  void read(ConversationTable& table, CaptureStats& stats,
            const std::function<void(std::uint64_t)>& progress = {});
  // Ends read() soon (live capture); safe to call from a signal handler.
  void stop();

  // What ended the reading early (a damaged file, a failing interface); the
  // packets before it were counted.
  const std::optional<Error>& error() const;
  const std::string& name() const;
  std::uint64_t size() const;  // bytes of the file, 0 when unknown (pipes, live)
  bool live() const { return live_; }
  // Packets the kernel dropped (live capture), when libpcap knows.
  std::optional<std::uint64_t> kernel_drops() const;

 private:
  CaptureInput() = default;
  std::unique_ptr<CaptureReader> reader_;
  std::unique_ptr<PcapSource> pcap_;
  bool live_ = false;
};

}  // namespace sockscope
