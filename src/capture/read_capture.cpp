// read_capture(): our own reader through the shared packet loop, as a pipeline of two
// threads (reading and decoding here, the table on a worker).
#include "capture/packet_loop.hpp"

namespace sockscope {

void read_capture(CaptureReader& reader, ConversationTable& table, CaptureStats& stats,
                  const std::function<void(std::uint64_t)>& progress) {
  capture_detail::feed_table_pipelined(reader, table, stats, [&] {
    if (progress) progress(reader.input_offset());
  });
}

}  // namespace sockscope
