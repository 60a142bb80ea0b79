// The flow table's record of one live conversation, and the TCP bookkeeping that
// follows Zeek's endpoint state machine. Internal to the capture layer.
//
// Sides: side 0 is the lower endpoint of the canonical key (address bytes, then
// port), side 1 the higher. `orig` names the side that is the client (Zeek's
// originator); history letters are stored upper case for side 0 and flipped on
// output when side 1 is the client.
#pragma once

#include <cstdint>
#include <cstring>

#include "sockscope/capture.hpp"
#include "sockscope/capture_reader.hpp"

namespace sockscope::capture_detail {

// The canonical key as six words, built and compared in registers:
//   w[0..1] side 0's address, w[2..3] side 1's (network byte order; IPv4 in the first
//   4 bytes, the rest zero), w[4] port_a | port_b << 16 | vlan << 32 (ICMP: the type
//   class and the identifier), w[5] transport | family << 8 | tag << 32.
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

// The canonical key of a decoded packet and the sender's side (0 or 1). Not for
// fragments (they have no ports). Computed by prepare_key() on whichever thread
// decodes, so that the table's thread only looks up.
struct PreparedKey {
  FlowKey key;
  int side;
};
void prepare_key(const PacketInfo& p, PreparedKey& out);

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
  std::uint16_t history_seen;         // CheckHistory bits: 8 per side
  std::uint8_t icmp_type, icmp_code;  // of the first packet (Community ID)
  std::uint8_t live;
  std::uint8_t history_full;  // a letter did not fit in history[]
  char history[16];           // upper case = side 0
};

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

// One TCP packet from `side`, following Zeek's TCPSessionAdapter::Process: history
// letters, zero windows, retransmissions and the endpoint state machine.
void tcp_update(Flow& f, int side, const PacketInfo& p);

// UDP: Zeek's history letters ('D'/'d' for the first packet with data per side).
void udp_update(Flow& f, int side, const PacketInfo& p);

// True when a SYN on this flow starts a new connection: the old one is closed or reset.
bool tcp_is_reuse(const Flow& f, const PacketInfo& p);

// conn_state for the flow, as Zeek's conn_state() in base/protocols/conn/main.zeek.
ConnState conn_state(const Flow& f);

// The history string with case as seen from the client.
std::string history_text(const Flow& f);

}  // namespace sockscope::capture_detail
