// The hot loop shared by every packet source: read a record, decode it, count it on
// its conversation, and keep the run's counters.
#pragma once

#include "sockscope/capture.hpp"
#include "sockscope/capture_reader.hpp"

namespace sockscope::capture_detail {

// Source: bool next(RawPacket&). `tick` is called every 2^18 records and at the end.
template <class Source, class Tick>
void feed_table(Source& source, ConversationTable& table, CaptureStats& stats, Tick&& tick) {
  const std::uint64_t orphans_before = table.orphan_fragments();
  const std::uint64_t fragments_before = table.fragments_matched();
  const std::uint64_t icmp_before = table.icmp_errors_matched();
  RawPacket raw;
  PacketInfo batch[ConversationTable::kBatch];
  std::size_t queued = 0;
  DropReason why;
  std::uint64_t packets = 0, decoded = 0, wire = 0;
  while (source.next(raw)) {
    ++packets;
    wire += raw.wire_len;
    if (decode_packet(raw, batch[queued], why)) {
      ++decoded;
      if (++queued == ConversationTable::kBatch) {
        table.add_batch(batch, queued);
        queued = 0;
      }
    } else {
      ++stats.dropped[std::size_t(why)];
    }
    if ((packets & 0x3ffff) == 0) tick();
  }
  table.add_batch(batch, queued);
  const std::uint64_t orphans = table.orphan_fragments() - orphans_before;
  stats.packets += packets;
  stats.wire_bytes += wire;
  stats.decoded += decoded - orphans;
  stats.dropped[std::size_t(DropReason::kOrphanFragment)] += orphans;
  stats.fragments += table.fragments_matched() - fragments_before;
  stats.icmp_errors_matched += table.icmp_errors_matched() - icmp_before;
  tick();
}

}  // namespace sockscope::capture_detail
