// Content gaps as Zeek counts them, from sequence numbers alone (see tcp_gaps.hpp).
// Differences from Zeek, which reassembles: a payload cut by the snaplen is data seen
// here (Zeek, which cannot deliver it, counts it missing once acknowledged); more than
// kMaxHoles holes in one direction merge the last two, counting the bytes seen between
// them as missing.
#include "capture/tcp_gaps.hpp"

namespace sockscope::capture_detail {
namespace {

constexpr std::uint8_t kSyn = 0x02, kRst = 0x04, kAck = 0x10;

bool before(std::uint32_t a, std::uint32_t b) { return std::int32_t(a - b) < 0; }
std::uint32_t later(std::uint32_t a, std::uint32_t b) { return before(a, b) ? b : a; }

// Zeek's established_or_cleanly_closing(): gaps are reported only then.
bool clean(const Flow& f, int side) {
  return f.state[side] == kEstablished ||
         (f.state[side] == kClosed && f.prev_state[side] == kEstablished);
}

void report(Flow& f, FlowExtra& x, int data_side, std::uint32_t len) {
  if (len == 0 || !clean(f, 0) || !clean(f, 1)) return;
  x.missed_bytes += len;
  scaled_history(f, data_side, x.gap_letters[data_side], 'G');
}

void add_hole(FlowExtra::Side& s, std::uint32_t lo, std::uint32_t hi) {
  if (s.holes == kMaxHoles) {  // merge into the last hole (the bytes between count missing)
    s.hi[kMaxHoles - 1] = hi;
    return;
  }
  s.lo[s.holes] = lo;
  s.hi[s.holes] = hi;
  ++s.holes;
}

void remove_hole(FlowExtra::Side& s, int i) {
  for (int k = i; k + 1 < s.holes; ++k) {
    s.lo[k] = s.lo[k + 1];
    s.hi[k] = s.hi[k + 1];
  }
  --s.holes;
}

// Data [a, b) arrived: what it covers of the holes is no longer missing.
void fill(FlowExtra::Side& s, std::uint32_t a, std::uint32_t b) {
  for (int i = 0; i < s.holes;) {
    const std::uint32_t lo = s.lo[i], hi = s.hi[i];
    if (!before(a, hi) || !before(lo, b)) {  // no overlap
      ++i;
    } else if (!before(a, lo) && !before(hi, b)) {  // inside: split, or shrink if full
      if (s.holes < kMaxHoles) {
        for (int k = s.holes; k > i + 1; --k) {
          s.lo[k] = s.lo[k - 1];
          s.hi[k] = s.hi[k - 1];
        }
        ++s.holes;
        s.lo[i + 1] = b;
        s.hi[i + 1] = hi;
      }
      s.hi[i] = a;
      if (s.hi[i] == s.lo[i]) remove_hole(s, i);
      return;
    } else if (!before(lo, a)) {  // covers the front
      if (before(b, hi)) {
        s.lo[i] = b;
        ++i;
      } else {
        remove_hole(s, i);
      }
    } else {  // covers the back
      s.hi[i] = a;
      ++i;
    }
  }
}

// No holes and nothing acknowledged past the data seen: the flow's own last_seq says
// it all again.
void maybe_release(Flow& f, const FlowExtra& x, int side) {
  const FlowExtra::Side& s = x.side[side];
  if (s.holes == 0 && !before(f.last_seq[side], s.acked)) f.flags &= ~gap_flag(side);
}

void data_sent(Flow& f, FlowExtra& x, int side, const PacketInfo& p, const GapCheck& was) {
  if (!p.payload_bytes || (p.tcp_flags & kRst) || !was.sender_known) return;
  const std::uint32_t a = p.seq + ((p.tcp_flags & kSyn) ? 1u : 0u), b = a + p.payload_bytes;
  FlowExtra::Side& s = x.side[side];
  if (!(f.flags & gap_flag(side))) {
    // A jump past the highest sequence number, unless the sender had reset (nothing
    // after a reset is trusted: its last_seq did not move).
    if (!before(was.sender_last, a) || f.last_seq[side] == was.sender_last) return;
    s = FlowExtra::Side{};
    s.acked = was.sender_last;
    add_hole(s, was.sender_last, a);
    f.flags |= gap_flag(side);
    return;
  }
  const std::uint32_t frontier = later(s.acked, was.sender_last);
  if (before(frontier, a)) add_hole(s, frontier, a);
  fill(s, a, b);
  maybe_release(f, x, side);
}

// `side` acknowledged `ack` of its peer's sequence space.
void ack_received(Flow& f, FlowExtra& x, int peer, std::uint32_t ack) {
  // Zeek's AckReceived: the FIN's own sequence number is not data.
  if ((f.history_seen & (kHistFin << (8 * peer))) && before(f.last_seq[peer] - 1, ack)) {
    ack = f.last_seq[peer] - 1;
  }
  FlowExtra::Side& s = x.side[peer];
  if (!(f.flags & gap_flag(peer))) {
    if (!before(f.last_seq[peer], ack)) return;
    s = FlowExtra::Side{};
    s.acked = ack;
    f.flags |= gap_flag(peer);
    report(f, x, peer, ack - f.last_seq[peer]);
    return;
  }
  if (!before(s.acked, ack)) return;
  const std::uint32_t frontier = later(s.acked, f.last_seq[peer]);
  while (s.holes > 0 && before(s.lo[0], ack)) {  // holes are ascending: the first ones
    if (before(ack, s.hi[0])) {
      report(f, x, peer, ack - s.lo[0]);
      s.lo[0] = ack;
      break;
    }
    report(f, x, peer, s.hi[0] - s.lo[0]);
    remove_hole(s, 0);
  }
  if (before(frontier, ack)) report(f, x, peer, ack - frontier);
  s.acked = ack;
  maybe_release(f, x, peer);
}

}  // namespace

void track_gaps(Flow& f, FlowExtra& x, int side, const PacketInfo& p, const GapCheck& was) {
  data_sent(f, x, side, p, was);
  const int peer = 1 - side;
  if ((p.tcp_flags & kAck) && (f.seq_init & (1u << peer))) ack_received(f, x, peer, p.ack);
}

void note_bad_checksum(Flow& f, FlowExtra& x, int side, Transport transport) {
  if (transport == Transport::kTcp) {
    scaled_history(f, side, x.bad_checksums[side], 'C');
  } else if (transport == Transport::kUdp && x.bad_checksums[side]++ == 0) {
    add_history(f, side, 'C');
  }
}

}  // namespace sockscope::capture_detail
