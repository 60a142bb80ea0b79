// Runs capture bytes through the real reader, decoder and conversation table.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "capture/capture_writer.hpp"
#include "sockscope/capture.hpp"
#include "sockscope/capture_reader.hpp"

namespace sockscope::testing {

struct CaptureRun {
  std::vector<Conversation> conversations;  // in emission order
  CaptureStats stats;
  std::optional<Error> open_error;  // the file was refused
  std::optional<Error> read_error;  // the file ended badly
  std::uint64_t evicted_early = 0;
};

// `one_thread`: through the one-thread loop of live captures (feed_table()), not the
// file pipeline (read_capture()).
CaptureRun run_capture(const std::string& bytes, ConversationOptions options = {},
                       bool one_thread = false);

// A capture written packet by packet: TCP and UDP between text addresses, at times in
// seconds, with optional VLAN tags (outer first) on every frame that follows.
struct Builder {
  CaptureWriter w;
  std::vector<std::uint16_t> vlans;

  explicit Builder(CaptureWriter::Format format = CaptureWriter::kPcapMicro) : w(format) {}
  void tcp(double t, const char* src, std::uint16_t sport, const char* dst, std::uint16_t dport,
           std::uint8_t flags, std::uint32_t seq, std::uint32_t ack, std::uint32_t payload = 0,
           std::uint16_t window = 65535);
  void udp(double t, const char* src, std::uint16_t sport, const char* dst, std::uint16_t dport,
           std::uint32_t payload);
  // ICMP (IPv4 addresses) or ICMPv6 (IPv6 addresses); `quote` follows the 8-byte header.
  void icmp(double t, const char* src, const char* dst, std::uint8_t type, std::uint8_t code,
            std::uint16_t id = 0, const Bytes& quote = {});
  CaptureRun run(ConversationOptions options = {}) const;
  // Flips bits of the byte at `offset` in the last frame written (pcap formats).
  void corrupt_last(std::size_t offset, std::uint8_t mask = 0x40) {
    w.flip_bits(last_frame_size - offset, mask);
  }
  std::size_t last_frame_size = 0;
};

// The conversations whose client endpoint text is `client` (e.g. "10.0.0.1:40000").
std::vector<const Conversation*> by_client(const CaptureRun& run, const std::string& client);

// Seconds as nanoseconds: at(1.5) == 1'500'000'000.
constexpr std::uint64_t at(double seconds) { return std::uint64_t(seconds * 1e9 + 0.5); }

}  // namespace sockscope::testing
