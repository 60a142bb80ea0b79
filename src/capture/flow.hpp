// The flow table's record of one live conversation, and the TCP bookkeeping that
// follows Zeek's endpoint state machine. Internal to the capture layer.
//
// Sides: side 0 is the lower endpoint of the canonical key (address bytes, then
// port), side 1 the higher. `orig` names the side that is the client (Zeek's
// originator); history letters are stored upper case for side 0 and flipped on
// output when side 1 is the client.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

#include "sockscope/capture.hpp"
#include "sockscope/capture_reader.hpp"

namespace sockscope::capture_detail {

// The canonical key as six words, built and compared in registers:
//   w[0..1] side 0's address, w[2..3] side 1's (network byte order; IPv4 in the first
//   4 bytes, the rest zero), w[4] port_a | port_b << 16 | vlan << 32 (ICMP: the type
//   and its counterpart or code, see prepare_icmp_key()), w[5] transport | family << 8 |
//   tag << 32.
// The tag is the hash of the rest: part of the key, so equal keys have equal tags.
struct FlowKey {
  std::uint64_t w[6];
  const std::uint8_t* a() const { return reinterpret_cast<const std::uint8_t*>(w); }
  const std::uint8_t* b() const { return reinterpret_cast<const std::uint8_t*>(w + 2); }
  std::uint16_t port_a() const { return std::uint16_t(w[4]); }
  std::uint16_t port_b() const { return std::uint16_t(w[4] >> 16); }
  std::uint32_t vlan() const { return std::uint32_t(w[4] >> 32); }
  Transport transport() const { return Transport(std::uint8_t(w[5])); }
  std::uint8_t family() const { return std::uint8_t(w[5] >> 8); }  // 4 or 6
  std::uint32_t tag() const { return std::uint32_t(w[5] >> 32); }
  bool operator==(const FlowKey& o) const {
    return ((w[0] ^ o.w[0]) | (w[1] ^ o.w[1]) | (w[2] ^ o.w[2]) | (w[3] ^ o.w[3]) |
            (w[4] ^ o.w[4]) | (w[5] ^ o.w[5])) == 0;
  }
};
static_assert(sizeof(FlowKey) == 48);

// The tag of a key: its words mixed in registers (the tag's own bits excluded).
inline std::uint32_t hash_words(std::uint64_t w0, std::uint64_t w1, std::uint64_t w2,
                                std::uint64_t w3, std::uint64_t w4, std::uint64_t w5) {
  std::uint64_t h1 = 0x9e3779b97f4a7c15ull, h2 = 0xc2b2ae3d27d4eb4full;
  h1 = (h1 ^ w0) * 0xbf58476d1ce4e5b9ull;
  h2 = (h2 ^ w1) * 0x94d049bb133111ebull;
  h1 = (h1 ^ w2) * 0xbf58476d1ce4e5b9ull;
  h2 = (h2 ^ w3) * 0x94d049bb133111ebull;
  h1 = (h1 ^ w4) * 0xbf58476d1ce4e5b9ull;
  h2 = (h2 ^ std::uint32_t(w5)) * 0x94d049bb133111ebull;
  std::uint64_t h = h1 ^ (h2 >> 31) ^ (h2 << 7);
  h ^= h >> 29;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 32;
  return std::uint32_t(h);
}

// Stores the tag of a key whose other words are set.
inline void seal(FlowKey& k) {
  k.w[5] = std::uint32_t(k.w[5]) |
           std::uint64_t(hash_words(k.w[0], k.w[1], k.w[2], k.w[3], k.w[4], k.w[5])) << 32;
}

// Builds the canonical key (sealed) in registers; returns the sender's side. The
// sides are ordered by address bytes, then port: the addresses compare as big-endian
// words, selected without branches (the direction of a packet is a coin toss).
inline int make_key(FlowKey& k, Transport transport, Family family, const std::uint8_t* src,
                    const std::uint8_t* dst, std::uint16_t sport, std::uint16_t dport,
                    std::uint32_t vlan) {
  static_assert(std::endian::native == std::endian::little, "FlowKey words assume little-endian");
  std::uint64_t raw[4];  // the address words as stored (network order)
  std::memcpy(raw, src, 16);
  std::memcpy(raw + 2, dst, 16);
  const std::uint64_t s0 = __builtin_bswap64(raw[0]), s1 = __builtin_bswap64(raw[1]);
  const std::uint64_t d0 = __builtin_bswap64(raw[2]), d1 = __builtin_bswap64(raw[3]);
  const unsigned src_first =
      unsigned(s0 < d0) |
      (unsigned(s0 == d0) & (unsigned(s1 < d1) | (unsigned(s1 == d1) & unsigned(sport <= dport))));
  // All ones when the source comes first; the stored words are selected as they are.
  const std::uint64_t m = std::uint64_t(0) - std::uint64_t(src_first);
  k.w[0] = raw[2] ^ ((raw[0] ^ raw[2]) & m);
  k.w[1] = raw[3] ^ ((raw[1] ^ raw[3]) & m);
  k.w[2] = raw[0] ^ ((raw[0] ^ raw[2]) & m);
  k.w[3] = raw[1] ^ ((raw[1] ^ raw[3]) & m);
  const std::uint64_t forward = std::uint64_t(sport) | std::uint64_t(dport) << 16;
  const std::uint64_t backward = std::uint64_t(dport) | std::uint64_t(sport) << 16;
  k.w[4] = (backward ^ ((forward ^ backward) & m)) | std::uint64_t(vlan) << 32;
  k.w[5] = std::uint64_t(std::uint8_t(transport)) | std::uint64_t(std::uint8_t(family)) << 8;
  seal(k);
  return int(src_first ^ 1u);
}

// The canonical key of a decoded packet and the sender's side (0 or 1). A later
// fragment has no ports: its key (whatever the stale port fields hold) only steers
// a prefetch, never a lookup. Computed by prepare_key() on whichever thread
// decodes, so that the table's thread only looks up; inline, as it runs for every
// packet (ICMP, keyed as Zeek keys it, out of line).
struct PreparedKey {
  FlowKey key;
  int side;
};
void prepare_icmp_key(const PacketInfo& p, PreparedKey& out);
[[gnu::always_inline]] inline void prepare_key(const PacketInfo& p, PreparedKey& out) {
  if (p.transport == Transport::kIcmp) return prepare_icmp_key(p, out);
  out.side = make_key(out.key, p.transport, p.family, p.src, p.dst, p.src_port, p.dst_port, p.vlan);
}

// The outer packet of a UDP tunnel's record (VXLAN, Geneve, ...) whose inner packet
// follows it in the batch: the table finds its flow through the inner flow's record
// (ConversationTable's outer hints) and computes its key only when that fails.
[[gnu::always_inline]] inline bool tunnel_outer(const PacketInfo* packets, std::size_t i,
                                                std::size_t n) {
  if (i + 1 >= n || !packets[i + 1].inner) [[likely]]
    return false;
  const PacketInfo& p = packets[i];
  return !p.inner && p.kind == PacketInfo::Kind::kNormal && p.transport == Transport::kUdp &&
         packets[i + 1].kind == PacketInfo::Kind::kNormal;
}

// The side of a tunnel_outer() packet's PreparedKey: no key computed (its tag is 0,
// for the table's prefetch only).
inline constexpr int kKeyByHint = 2;

// The keys of packets for the table (a batch's, or a record's as it is decoded):
// every packet's, but for tunnel_outer() packets. True when there were such packets.
inline bool prepare_keys(const PacketInfo* packets, PreparedKey* keys, std::size_t n) {
  bool by_hint = false;
  for (std::size_t i = 0; i < n; ++i) {
    if (tunnel_outer(packets, i, n)) {
      keys[i].key.w[5] = 0;
      keys[i].side = kKeyByHint;
      by_hint = true;
    } else {
      prepare_key(packets[i], keys[i]);
    }
  }
  return by_hint;
}

// The file pipeline's way into a ConversationTable (a friend of it): batches whose
// keys the reader thread computed with prepare_keys() (keys[i] for packets[i]; ignored
// for fragments; `by_hint` what it returned), so that the worker only looks up.
struct TableAccess {
  static void add_batch(ConversationTable& table, const PacketInfo* packets,
                        const PreparedKey* keys, bool by_hint, const Tunnel* tunnels,
                        std::size_t n);
};

// Zeek's TCP endpoint states (TCP_Endpoint.h).
enum TcpState : std::uint8_t {
  kInactive,
  kSynSent,
  kSynAckSent,
  kPartial,
  kEstablished,
  kClosed,
  kReset,
};

struct Flow {
  FlowKey key;
  std::uint64_t first_ns, last_ns;  // first_ns: the free-list link when unused
  std::uint64_t packets[2];
  std::uint64_t ip_bytes[2];
  std::uint64_t payload[2];
  std::uint32_t last_seq[2];      // TCP: one past the highest sequence number sent
  std::uint16_t rexmits[2];       // TCP: retransmissions ('T' at 1, 10, ... 10000; saturates)
  std::uint16_t zero_windows[2];  // TCP: zero windows ('W' likewise)
  std::uint8_t state[2];          // TcpState per side
  std::uint8_t prev_state[2];
  std::uint8_t orig;      // the client's side
  std::uint8_t evidence;  // Evidence
  std::uint8_t seq_init;  // bit per side: last_seq is set
  std::uint8_t history_len;
  std::uint16_t history_seen;  // CheckHistory bits: 8 per side
  // TCP/UDP/SCTP/DCCP: the first ICMP error that quoted a packet of this flow (type 0:
  // none; no ICMP error has type 0).
  std::uint8_t error_type, error_code;
  std::uint8_t live;
  std::uint8_t history_full;  // a letter did not fit in history[]
  char history[16];           // upper case = side 0
  std::uint8_t flags;         // FlowFlag bits
};
// 160 bytes: with its slot, a live conversation costs at most 192 bytes (the goal).
static_assert(sizeof(Flow) == 160);

enum FlowFlag : std::uint8_t {
  kFlowAttempt = 1 << 0,  // TCP: the originator's SYN opened the flow (Zeek's attempt timer)
  kFlowExtra = 1 << 1,    // has a FlowExtra record (tcp_gaps.hpp)
  kFlowGap0 = 1 << 2,     // side 0's gap state lives in the FlowExtra record
  kFlowGap1 = 1 << 3,     // side 1's
  kFlowTunnel = 1 << 4,   // opened by a packet inside a tunnel (the table's side array)
  kFlowClosed = 1 << 5,   // TCP: both sides closed (FIN or RST): its last time stays
};

inline bool closed_or_reset(std::uint8_t s) { return s == kClosed || s == kReset; }
// Both TCP sides have closed (FIN or RST): Zeek's did_close on both endpoints.
inline bool both_closed(const Flow& f) {
  return closed_or_reset(f.state[0]) && closed_or_reset(f.state[1]);
}
constexpr std::uint8_t gap_flag(int side) { return std::uint8_t(kFlowGap0 << side); }

// The originator's SYN is still unanswered: the condition of Zeek's AttemptTimer.
inline bool attempting(const Flow& f) {
  const std::uint8_t o = f.state[f.orig], r = f.state[1 - f.orig];
  return (o == kSynSent || o == kSynAckSent) && r == kInactive;
}

// Letters recorded once per side, as Zeek's CheckHistory masks.
enum HistoryBit : std::uint16_t {
  kHistSyn = 1 << 0,
  kHistSynAck = 1 << 1,
  kHistAck = 1 << 2,
  kHistData = 1 << 3,
  kHistFin = 1 << 4,
  kHistRst = 1 << 5,
  kHistMulti = 1 << 6,
  kHistFinRst = 1 << 7,
};

// Adds a history letter for `side` (upper case given; side 1 gets lower case).
void add_history(Flow& f, int side, char upper);

// Zeek's ScaledHistoryEntry with base 10: the letter at counts 1, 10, 100, ... (the
// 16-bit counter stops at 65535, so the last letter is the 10000th occurrence's).
void scaled_history(Flow& f, int side, std::uint16_t& counter, char upper);

// Zeek's CheckHistory: the letter only the first time for this side.
inline void check_history(Flow& f, int side, std::uint16_t bit, char upper) {
  const std::uint16_t mask = std::uint16_t(bit << (side * 8));
  if (f.history_seen & mask) return;
  f.history_seen |= mask;
  add_history(f, side, upper);
}

// What the gap tracker (tcp_gaps.hpp) needs of the flow as it was before tcp_update(),
// and whether the packet concerns gaps at all: data past the sender's highest sequence
// number, an ACK past the peer's, or a flow that already has gap state. A superset,
// cheap to compute where tcp_update() has the numbers at hand; track_gaps() checks the
// rest.
struct GapCheck {
  bool sender_known = false;  // the sender's sequence numbers were set before
  std::uint32_t sender_last = 0;
};

// One TCP packet from `side`, following Zeek's TCPSessionAdapter::Process: history
// letters, zero windows, retransmissions and the endpoint state machine. True when the
// packet concerns gaps: `gaps` is then set for track_gaps().
bool tcp_update_general(Flow& f, int side, const PacketInfo& p, GapCheck& gaps);

// The same, inline for most packets of a connection: no SYN, FIN or RST, from a side
// whose sequence numbers and state are set. The state machine leaves such a packet
// alone and its history is one test, so what is left is tcp_update_general() without
// its branches (and without a call: ~60 instructions per TCP packet fewer, cachegrind).
[[gnu::always_inline]] inline bool tcp_update(Flow& f, int side, const PacketInfo& p,
                                              GapCheck& gaps) {
  constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;
  const std::uint8_t flags = p.tcp_flags;
  if ((flags & (kSyn | kFin | kRst)) != 0 || !(f.seq_init & (1u << side)) ||
      f.state[side] == kInactive) [[unlikely]] {
    return tcp_update_general(f, side, p, gaps);
  }
  const std::uint32_t len = p.payload_bytes;
  gaps.sender_known = true;
  gaps.sender_last = f.last_seq[side];
  bool needed = (std::int32_t(p.ack - f.last_seq[1 - side]) > 0 && (flags & kAck)) |
                ((f.flags & (kFlowGap0 | kFlowGap1)) != 0);
  if (len) {
    check_history(f, side, kHistData, 'D');
  } else if (flags & kAck) {
    check_history(f, side, kHistAck, 'A');
  }
  if (p.window == 0 && f.state[1 - side] != kClosed && f.state[side] != kReset) [[unlikely]] {
    scaled_history(f, side, f.zero_windows[side], 'W');
  }
  const std::uint32_t seq_end = p.seq + len;
  const std::int32_t delta = std::int32_t(seq_end - f.last_seq[side]);
  if (f.state[side] == kReset) {
    // nothing after a reset is trusted
  } else if (delta > 0) {
    needed |= std::uint32_t(delta) > len && len > 0;  // data past a hole
    f.last_seq[side] = seq_end;
  } else if (len > 0) {
    scaled_history(f, side, f.rexmits[side], 'T');  // a retransmission
  }
  return needed;
}

// UDP: Zeek's history letters ('D'/'d' for the first packet with data per side).
// Inline: one test for nearly every packet (a call was ~7 instructions more).
[[gnu::always_inline]] inline void udp_update(Flow& f, int side, const PacketInfo& p) {
  if (p.payload_bytes > 0) check_history(f, side, kHistData, 'D');
}

// True when a SYN on this flow starts a new connection: the old one is closed or reset.
bool tcp_is_reuse(const Flow& f, const PacketInfo& p);

// conn_state for the flow, as Zeek's conn_state() in base/protocols/conn/main.zeek.
ConnState conn_state(const Flow& f);

// The history string with case as seen from the client.
std::string history_text(const Flow& f);

}  // namespace sockscope::capture_detail
