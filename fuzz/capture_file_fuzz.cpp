// The pcap/pcapng reader (and everything behind it) on arbitrary files. Properties:
// no crash or out-of-bounds read, the reader never claims more bytes than it was given,
// and every emitted conversation has at least one packet.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sockscope/capture.hpp"
#include "sockscope/capture_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto reader = sockscope::CaptureReader::from_memory(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (!reader) return 0;
  sockscope::ConversationOptions options;
  options.max_conversations = 32;
  sockscope::ConversationTable table(options, [](const sockscope::Conversation& c) {
    if (c.packets() == 0 || c.last_ns < c.first_ns) std::abort();
  });
  sockscope::CaptureStats stats;
  sockscope::read_capture(**reader, table, stats);
  table.finish();
  if ((*reader)->offset() > size) std::abort();
  if (stats.decoded + stats.dropped_total() != stats.packets) std::abort();
  return 0;
}
