// The packet decoder and the conversation table on arbitrary bytes. Input: the first
// byte picks a link type, the rest is one captured frame (its wire length equal to or
// larger than what was captured, from the second byte). Properties: no read outside
// the frame (ASan), decoded lengths are consistent, the table survives any sequence,
// and the read loop's inline decoder (capture/packet_fast.hpp), where it accepts a
// packet, gives what the general decoder gives.
#include <cstdint>
#include <cstdlib>

#include "capture/packet_fast.hpp"
#include "sockscope/capture.hpp"
#include "sockscope/capture_reader.hpp"

namespace {
constexpr std::uint32_t kLinkTypes[] = {1, 0, 108, 101, 12, 14, 228, 229, 113, 276, 147};
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  static sockscope::ConversationTable table(
      [] {
        sockscope::ConversationOptions o;
        o.max_conversations = 64;
        return o;
      }(),
      {});
  static std::uint64_t now = 1;
  sockscope::RawPacket raw;
  raw.linktype = kLinkTypes[data[0] % std::size(kLinkTypes)];
  raw.data = data + 2;
  raw.caplen = std::uint32_t(size - 2);
  raw.wire_len = raw.caplen + data[1];
  raw.ts_ns = now += 1'000'000'000ull * (data[1] & 3);
  sockscope::PacketInfo info, fast;
  sockscope::DropReason why;
  const bool decoded = sockscope::decode_packet(raw, info, why);
  if (sockscope::capture_detail::decode_common(raw, fast) && (!decoded || !(fast == info))) {
    std::abort();
  }
  if (decoded) {
    if (info.kind == sockscope::PacketInfo::Kind::kNormal && info.payload_bytes > info.ip_bytes) {
      std::abort();  // a payload cannot exceed its IP packet
    }
    table.add(info);
  } else if (std::size_t(why) >= sockscope::kDropReasonCount) {
    std::abort();
  }
  return 0;
}
