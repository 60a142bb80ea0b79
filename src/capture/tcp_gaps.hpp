// Zeek's content gaps (missed_bytes, history G/g) without its reassembler's buffers,
// and the other rare per-flow state (bad checksum letters), kept beside the flow table
// so that the 160-byte flow record does not grow. Internal to the capture layer.
//
// Zeek reports a gap when a side acknowledges sequence space of its peer that the
// reassembler never had (TCP_Reassembler::Undelivered via AckReceived), and only while
// both endpoints are established or closed cleanly from established. Here a side's
// data is described by its highest sequence number (Flow::last_seq) and, only once a
// segment jumps past it or an ACK goes past it, by an acknowledged point and up to
// kMaxHoles ranges never seen: a flow without gaps costs two comparisons per packet.
//
// Thread safety: owned by one ConversationTable, used from its thread.
#pragma once

#include <cstdint>
#include <unordered_map>

#include "capture/flow.hpp"

namespace sockscope::capture_detail {

inline constexpr int kMaxHoles = 4;

struct FlowExtra {
  std::uint64_t missed_bytes = 0;
  std::uint16_t gap_letters[2] = {};    // scaled 'G' counter per side
  std::uint16_t bad_checksums[2] = {};  // scaled 'C' counter per side (UDP: the first)
  struct Side {
    std::uint32_t acked = 0;  // sequence space below it is seen or counted missing
    std::uint8_t holes = 0;
    std::uint32_t lo[kMaxHoles] = {}, hi[kMaxHoles] = {};  // [lo, hi) never seen, ascending
  } side[2];
};

// The table's side store of FlowExtra records, by flow record index.
class FlowExtras {
 public:
  FlowExtra& get(Flow& f, std::uint32_t index) {
    f.flags |= kFlowExtra;
    return map_[index];
  }
  const FlowExtra* find(const Flow& f, std::uint32_t index) const {
    if (!(f.flags & kFlowExtra)) return nullptr;
    const auto it = map_.find(index);
    return it == map_.end() ? nullptr : &it->second;
  }
  void erase(const Flow& f, std::uint32_t index) {
    if (f.flags & kFlowExtra) map_.erase(index);
  }
  void clear() { map_.clear(); }

 private:
  std::unordered_map<std::uint32_t, FlowExtra> map_;
};

// After tcp_update(): records holes the packet's data leaves or fills, and counts the
// sequence space its ACK covers that was never seen (missed_bytes, G/g).
void track_gaps(Flow& f, FlowExtra& x, int side, const PacketInfo& p, const GapCheck& before);

// A packet whose checksum is wrong: Zeek's C/c (TCP scaled as T and W, UDP once).
void note_bad_checksum(Flow& f, FlowExtra& x, int side, Transport transport);

}  // namespace sockscope::capture_detail
