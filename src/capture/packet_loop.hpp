// The hot loop shared by every packet source: read a record, decode it, count it on
// its conversation, and keep the run's counters. Two shapes: one thread doing it all
// (live capture, libpcap), and a pipeline for files where this thread reads and
// decodes while a second one counts the packets on the table.
#pragma once

#include <atomic>
#include <bit>
#include <exception>
#include <memory>
#include <thread>

#include "capture/flow.hpp"
#include "capture/packet_fast.hpp"
#include "sockscope/capture.hpp"
#include "sockscope/capture_reader.hpp"

namespace sockscope::capture_detail {

// A record the common shape did not take: decoded into `out` (room for
// kMaxPacketsPerRecord), its drops, tunnels and bad checksums counted in `stats`.
// Returns the packets written.
inline std::size_t decode_general(const RawPacket& raw, PacketInfo* out, Tunnel* tunnels,
                                  const DecodeOptions& options, CaptureStats& stats) {
  const DecodeResult r = decode_record(raw, out, options, tunnels);
  for (std::uint32_t kinds = r.tunnels; kinds != 0; kinds &= kinds - 1) {
    ++stats.tunnelled[std::countr_zero(kinds)];
  }
  if (r.count == 0) {
    ++stats.dropped[std::size_t(r.why)];
    return 0;
  }
  if (r.inner_dropped) ++stats.inner_dropped[std::size_t(r.why)];
  for (std::size_t i = 0; i < r.count; ++i) {
    stats.bad_checksums += out[i].kind == PacketInfo::Kind::kBadChecksum;
  }
  return r.count;
}

// Where a batch is decoded: the packets, beside them the tunnels of those that were
// found in one (read only for them), and their keys when the decoding thread computes
// them (null otherwise).
struct BatchSpace {
  PacketInfo* packets;
  Tunnel* tunnels;
  PreparedKey* keys = nullptr;
};

// Reads and decodes every record of `source`, handing decoded packets to
// `sink(BatchSpace, n, by_hint)` in batches of at most kBatch, in order. `next_batch()`
// returns where the next batch is decoded (the sink may hand out a new buffer each
// time); `stop()` asks the loop to end early. Counts records, wire bytes and drops in
// `stats` (not what the table decides later). `tick` runs every 2^18 records and at the
// end.
// With kKeys the batch's keys are made here as prepare_keys() makes them (`by_hint` its
// result), a few records behind the decoding: made when the whole batch was handed
// over, they read each packet back from beyond the first-level cache (512 packets are
// 61 kB); made right after each packet, they loaded what its stores had just written,
// in pieces the processor cannot forward from those stores (a stall on most packets,
// seen with perf). And the test for a tunnel's outer packet runs only where a record
// took a decoder other than the common shape's.
template <std::size_t kBatch, bool kKeys, class Source, class NextBatch, class Sink, class Stop,
          class Tick>
void decode_loop(Source& source, const DecodeOptions& options, CaptureStats& stats,
                 NextBatch&& next_batch, Sink&& sink, Stop&& stop, Tick&& tick) {
  constexpr std::size_t kKeyLag = 16;  // packets decoded before their keys are made
  constexpr std::size_t kNone = ~std::size_t(0);
  RawPacket raw;
  BatchSpace batch = next_batch();
  std::size_t slot = 0;                              // where the next packet is decoded
  std::uint64_t packets = 0, dropped = 0, wire = 0;  // decoded: the rest
  std::size_t keyed = 0;            // the batch's packets before it have their keys
  std::size_t first_other = kNone;  // the first packet since then of another decoder's record
  bool by_hint = false;             // the batch has tunnel_outer() packets
  // Keys for the packets from `keyed` to `upto` (a record's start, or the batch's end).
  const auto make_keys = [&](std::size_t upto) {
    if (first_other < upto) {
      by_hint |= prepare_keys(batch.packets + keyed, batch.keys + keyed, upto - keyed);
    } else {
      // The common shape's packets are TCP or UDP: make_key() without prepare_key()'s
      // test for ICMP (which cost ~14 instructions a packet here, cachegrind).
      for (std::size_t i = keyed; i < upto; ++i) {
        const PacketInfo& q = batch.packets[i];
        batch.keys[i].side = make_key(batch.keys[i].key, q.transport, q.family, q.src, q.dst,
                                      q.src_port, q.dst_port, q.vlan);
      }
    }
    keyed = upto;
    first_other = kNone;
  };
  // The same for the records before the one at `start`, once kKeyLag packets wait.
  const auto keys_behind = [&](std::size_t start) {
    if (start - keyed >= kKeyLag) make_keys(start);
  };
  const auto hand_over = [&] {
    if constexpr (kKeys) make_keys(slot);
    sink(batch, slot, by_hint);
    batch = next_batch();
    slot = keyed = 0;
    by_hint = false;
  };
  // The common shape never has its checksums checked: with checking on, every packet
  // takes the general decoder.
  const bool fast = !options.verify_checksums;
  // After a VXLAN record the next one skips the plain shape: in a capture of a VXLAN
  // underlay nearly every record is one, and the failed plain decode cost ~70 of each
  // one's ~1,000 instructions. A plain record after one takes the general decoder.
  bool plain_first = fast;
  while (source.next(raw)) {
    ++packets;
    wire += raw.wire_len;
    std::size_t start = slot;  // the record's first packet
    // The common shape inline, the rest (and every drop) by the general decoder.
    if (plain_first && decode_common(raw, batch.packets[slot])) [[likely]] {
      ++slot;
      if constexpr (kKeys) keys_behind(start);
    } else {
      if (kBatch - slot < kMaxPacketsPerRecord) hand_over();  // room for a tunnel's packets
      start = slot;
      PacketInfo* out = batch.packets + slot;
      Tunnel* tunnels = batch.tunnels + slot;
      std::size_t n;
      if (fast && decode_vxlan_common(raw, out, tunnels)) {
        n = 2;
        plain_first = false;
        ++stats.tunnelled[std::size_t(TunnelKind::kVxlan)];
      } else {
        plain_first = fast;
        n = decode_general(raw, out, tunnels, options, stats);
        dropped += n == 0;
      }
      slot += n;
      if constexpr (kKeys) {
        keys_behind(start);
        if (first_other == kNone) first_other = start;
      }
    }
    if (slot == kBatch) hand_over();
    if ((packets & 0x3ffff) == 0) {
      tick();
      if (stop()) break;
    }
  }
  if (slot != 0) {
    if constexpr (kKeys) make_keys(slot);
    sink(batch, slot, by_hint);
  }
  stats.packets += packets;
  stats.wire_bytes += wire;
  stats.decoded += packets - dropped;
  tick();
}

// The table's share of the counters, taken before and after a run.
struct TableCounters {
  std::uint64_t orphans, inner_orphans, fragments, icmp;
  explicit TableCounters(const ConversationTable& t)
      : orphans(t.orphan_fragments()),
        inner_orphans(t.inner_orphan_fragments()),
        fragments(t.fragments_matched()),
        icmp(t.icmp_errors_matched()) {}
  // Later fragments without a first one were decoded but never counted: drops (of the
  // record, or of its inside when its outer packet counted).
  void add_run(const ConversationTable& t, CaptureStats& stats) const {
    const std::uint64_t inner = t.inner_orphan_fragments() - inner_orphans;
    const std::uint64_t orphaned = t.orphan_fragments() - orphans - inner;
    stats.decoded -= orphaned;
    stats.dropped[std::size_t(DropReason::kOrphanFragment)] += orphaned;
    stats.inner_dropped[std::size_t(DropReason::kOrphanFragment)] += inner;
    stats.fragments += t.fragments_matched() - fragments;
    stats.icmp_errors_matched += t.icmp_errors_matched() - icmp;
  }
};

// One thread: decode a batch, count it, repeat.
template <class Source, class Tick>
void feed_table(Source& source, ConversationTable& table, CaptureStats& stats, Tick&& tick) {
  const TableCounters before(table);
  PacketInfo batch[ConversationTable::kBatch];
  Tunnel tunnels[ConversationTable::kBatch];
  decode_loop<ConversationTable::kBatch, false>(
      source, DecodeOptions{.verify_checksums = table.options().verify_checksums}, stats,
      [&] {
        return BatchSpace{batch, tunnels};
      },
      [&](BatchSpace b, std::size_t n, bool) { table.add_batch(b.packets, n, b.tunnels); },
      [] { return false; }, tick);
  before.add_run(table, stats);
}

// Two threads over a ring of batches: this thread reads and decodes, a worker counts
// on the table (which also runs the table's emit callback: the caller must not touch
// what that callback touches until this returns). Results are the same as
// feed_table's: the table sees the same packets in the same order. An exception in
// the worker (from the emit callback, or memory) ends the run and is rethrown here.
template <class Source, class Tick>
void feed_table_pipelined(Source& source, ConversationTable& table, CaptureStats& stats,
                          Tick&& tick) {
  constexpr std::size_t kPipeBatch = 512;  // packets per batch
  constexpr std::uint32_t kSlots = 8;      // batches in flight (~0.7 MB: stays in cache)
  constexpr std::uint32_t kWake = kSlots / 2;
  struct Batch {
    PacketInfo packets[kPipeBatch];
    PreparedKey keys[kPipeBatch];  // computed here: the worker only looks up
    bool by_hint = false;          // some keys are left to the table (kKeyByHint)
    Tunnel tunnels[kPipeBatch];    // written (and read) only for tunnelled packets
    std::size_t n = 0;
    bool last = false;  // the end of the run: no packets, the worker returns
  };
  const TableCounters before(table);
  const std::unique_ptr<Batch[]> ring(new Batch[kSlots]);
  // Counters of batches published and consumed; the difference is the ring's fill.
  // Each side sleeps on the other's counter (futex), so neither spins on a busy core.
  // Each side wakes the other every half ring (kWake batches), not for each batch: a
  // worker ahead of the reader waits on an empty ring, and a reader ahead of the worker
  // on a full one, and a wake-up per batch cost both a context switch per batch. A
  // waiting worker is always woken: while it waits the ring is empty, so the reader
  // reaches the next half ring (or the end, which always wakes it) without waiting.
  std::atomic<std::uint32_t> produced{0}, consumed{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;

  std::thread worker([&] {
    for (std::uint32_t c = 0;; ++c) {
      std::uint32_t p;
      while ((p = produced.load(std::memory_order_acquire)) == c) {
        produced.wait(p, std::memory_order_acquire);
      }
      Batch& b = ring[c % kSlots];
      if (b.last) return;
      if (!failed.load(std::memory_order_relaxed)) {
        try {
          TableAccess::add_batch(table, b.packets, b.keys, b.by_hint, b.tunnels, b.n);
        } catch (...) {
          error = std::current_exception();
          failed.store(true, std::memory_order_relaxed);
        }
      }
      consumed.store(c + 1, std::memory_order_release);
      if ((c + 1) % kWake == 0) consumed.notify_one();
    }
  });

  std::uint32_t p = 0;
  const auto next_batch = [&]() -> BatchSpace {
    std::uint32_t c;
    while (p - (c = consumed.load(std::memory_order_acquire)) == kSlots) {
      consumed.wait(c, std::memory_order_acquire);
    }
    Batch& b = ring[p % kSlots];
    return BatchSpace{b.packets, b.tunnels, b.keys};
  };
  const auto publish = [&](std::size_t n, bool by_hint, bool last) {
    Batch& b = ring[p % kSlots];
    b.by_hint = by_hint;
    b.n = n;
    b.last = last;
    produced.store(++p, std::memory_order_release);
    if (p % kWake == 0 || last) produced.notify_one();
  };
  const auto end_run = [&] {
    next_batch();  // room for the end marker
    publish(0, false, true);
    worker.join();
  };
  try {
    decode_loop<kPipeBatch, true>(
        source, DecodeOptions{.verify_checksums = table.options().verify_checksums}, stats,
        next_batch, [&](BatchSpace, std::size_t n, bool by_hint) { publish(n, by_hint, false); },
        [&] { return failed.load(std::memory_order_relaxed); }, tick);
  } catch (...) {
    end_run();
    throw;
  }
  end_run();
  if (error) std::rethrow_exception(error);
  before.add_run(table, stats);
}

}  // namespace sockscope::capture_detail
