// Zeek's view of a TCP connection, per flow: the endpoint state machine of
// TCPSessionAdapter (UpdateInactiveState, UpdateSYN_SentState, ...), the history
// letters of update_history(), zero windows and retransmissions (scaled: a letter at
// the 1st, 10th, 100th... occurrence), and conn_state() of base/protocols/conn.
// Content gaps (G) and checksums (C) are tcp_gaps.cpp's. What is left out: a repeated
// S/F/R letter for a second SYN/FIN/RST at another sequence number.
#include <string>

#include "capture/flow.hpp"

namespace sockscope::capture_detail {
namespace {

constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;

void set_state(Flow& f, int side, TcpState s) {
  f.prev_state[side] = f.state[side];
  f.state[side] = s;
  f.flags = std::uint8_t((f.flags & ~kFlowClosed) | (both_closed(f) ? kFlowClosed : 0));
  if (!attempting(f)) f.flags &= std::uint8_t(~kFlowAttempt);  // answered, or given up
}

void update_history(Flow& f, int side, std::uint8_t flags, std::uint32_t len) {
  const int bits = ((flags & kSyn) != 0) + ((flags & kFin) != 0) + ((flags & kRst) != 0);
  if (bits > 1) {
    if ((flags & kFin) && (flags & kRst)) {
      check_history(f, side, kHistFinRst, 'I');
    } else {
      check_history(f, side, kHistMulti, 'Q');
    }
  } else if (bits == 1) {
    if (flags & kSyn)
      check_history(f, side, (flags & kAck) ? kHistSynAck : kHistSyn, (flags & kAck) ? 'H' : 'S');
    if (flags & kFin) check_history(f, side, kHistFin, 'F');
    if (flags & kRst) check_history(f, side, kHistRst, 'R');
  } else if (len) {
    check_history(f, side, kHistData, 'D');
  } else if (flags & kAck) {
    check_history(f, side, kHistAck, 'A');
  }
}

void update_state_machine(Flow& f, int side, const PacketInfo& p) {
  const bool is_orig = side == f.orig;
  const int peer = 1 - side;
  const std::uint8_t flags = p.tcp_flags;
  switch (f.state[side]) {
    case kInactive:
      if (flags & kSyn) {
        if (is_orig) {
          set_state(f, side, (flags & kAck) ? kSynAckSent : kSynSent);
          // Zeek's attempt timer starts with this SYN: it opened the flow, the responder
          // has said nothing yet.
          if (p.ts_ns == f.first_ns && f.state[peer] == kInactive) f.flags |= kFlowAttempt;
        } else {
          if (f.state[peer] == kSynSent) set_state(f, peer, kEstablished);
          set_state(f, side, kEstablished);
        }
      }
      if (flags & kFin) set_state(f, side, kClosed);
      if (flags & kRst) set_state(f, side, kReset);
      if (f.state[side] == kInactive) {
        if (!is_orig && p.payload_bytes == 0 && f.state[f.orig] == kSynSent) {
          // an ACK of the SYN before the SYN-ACK: not yet a partial connection
        } else if ((flags & kAck) && f.state[peer] == kEstablished) {
          set_state(f, side, kEstablished);  // missed the SYN, saw the SYN-ACK
        } else {
          set_state(f, side, kPartial);
        }
      }
      break;
    case kSynSent:
    case kSynAckSent:
      if (flags & kFin) set_state(f, side, kClosed);
      if (flags & kRst) set_state(f, side, kReset);
      break;
    case kEstablished:
    case kPartial:
      if ((flags & kSyn) && f.state[side] == kPartial && f.state[peer] == kInactive &&
          !(flags & kAck)) {
        set_state(f, side, kSynSent);
      }
      if ((flags & kFin) && !(flags & kRst)) {
        set_state(f, side, kClosed);
        if (f.state[peer] == kReset && f.prev_state[peer] == kClosed) {
          set_state(f, peer, kClosed);  // FIN then RST from the peer: a normal end
        }
      }
      if (flags & kRst) set_state(f, side, kReset);
      break;
    case kClosed:
      if ((flags & kRst) && f.state[peer] != kClosed) set_state(f, side, kReset);
      break;
    default: break;
  }
}

}  // namespace

namespace {

// ASCII case flips without the C library's locale lookups (a call per letter).
char flip_case(char c) {
  if (c >= 'A' && c <= 'Z') return char(c + ('a' - 'A'));
  if (c >= 'a' && c <= 'z') return char(c - ('a' - 'A'));
  return c;
}

}  // namespace

void scaled_history(Flow& f, int side, std::uint16_t& counter, char upper) {
  if (counter == 0xffff) return;
  ++counter;
  std::uint32_t c = counter;
  while (c % 10 == 0) c /= 10;
  if (c == 1) add_history(f, side, upper);
}

void add_history(Flow& f, int side, char upper) {
  if (f.history_len >= sizeof(f.history)) {
    f.history_full = 1;  // said in the output (Conversation::history_truncated)
    return;
  }
  f.history[f.history_len++] = side == 0 ? upper : flip_case(upper);
}

bool tcp_update_general(Flow& f, int side, const PacketInfo& p, GapCheck& gaps) {
  const std::uint8_t flags = p.tcp_flags;
  const std::uint32_t len = p.payload_bytes;
  std::uint32_t seg_len = len + ((flags & kSyn) ? 1 : 0) + ((flags & kFin) ? 1 : 0);
  if (flags & kRst) seg_len -= len;
  const std::uint32_t seq_end = p.seq + seg_len;
  const std::uint8_t bit = std::uint8_t(1u << side);
  // For the gap tracker: the sender as it was (stored at once: nothing is then kept in
  // registers across the updates below), and whether this packet acknowledges past what
  // its peer sent (a jump in its own data is found below, where the sequence numbers are
  // compared anyway).
  gaps.sender_known = f.seq_init & bit;
  gaps.sender_last = f.last_seq[side];
  bool needed = (std::int32_t(p.ack - f.last_seq[1 - side]) > 0 && (flags & kAck)) |
                ((f.flags & (kFlowGap0 | kFlowGap1)) != 0);
  if (!(f.seq_init & bit) ||
      ((flags & kSyn) && f.state[side] != kClosed && f.state[side] != kReset)) {
    // init_endpoint(): the first packet (or a new SYN) sets the sequence origin.
    f.last_seq[side] = (flags & kSyn) ? seq_end : p.seq;
    f.seq_init |= bit;
  }
  update_history(f, side, flags, len);
  if (p.window == 0 && !(flags & kRst) && f.state[1 - side] != kClosed && f.state[side] != kReset) {
    scaled_history(f, side, f.zero_windows[side], 'W');
  }
  // update_last_seq(): a segment that does not advance the sequence is a retransmission.
  const std::int32_t delta = std::int32_t(seq_end - f.last_seq[side]);
  constexpr std::int32_t kTooLarge = 1048576;
  if ((flags & (kSyn | kRst)) && (delta > kTooLarge || delta < -kTooLarge)) {
    // untrusted jump
  } else if (f.state[side] == kReset) {
    // nothing after a reset is trusted
  } else if (delta > 0) {
    // Past the highest sequence number by more than this segment: data past a hole.
    needed |= std::uint32_t(delta) > seg_len && len > 0;
    f.last_seq[side] = seq_end;
  } else if (len > 0) {
    scaled_history(f, side, f.rexmits[side], 'T');
  }
  update_state_machine(f, side, p);
  return needed;
}

bool tcp_is_reuse(const Flow& f, const PacketInfo& p) {
  if ((p.tcp_flags & (kSyn | kAck | kRst)) != kSyn) return false;
  for (int s = 0; s < 2; ++s) {
    if (f.state[s] == kClosed || f.state[s] == kReset) return true;
  }
  return false;
}

ConnState conn_state(const Flow& f) {
  const auto transport = f.key.transport();
  const int o = f.orig, r = 1 - f.orig;
  if (transport == Transport::kUdp) {
    const bool oa = f.packets[o] > 0, ra = f.packets[r] > 0;
    if (oa) return ra ? ConnState::kSF : ConnState::kS0;
    return ra ? ConnState::kSHR : ConnState::kOTH;
  }
  if (transport != Transport::kTcp) return ConnState::kOTH;
  const std::uint8_t os = f.state[o], rs = f.state[r];
  const bool o_inactive = os == kInactive || os == kPartial;
  const bool r_inactive = rs == kInactive || rs == kPartial;
  if (rs == kReset) {
    if (os == kSynSent || os == kSynAckSent ||
        (os == kReset && f.payload[o] == 0 && f.payload[r] == 0)) {
      return ConnState::kREJ;
    }
    return o_inactive ? ConnState::kRSTRH : ConnState::kRSTR;
  }
  if (os == kReset) {
    if (!r_inactive) return ConnState::kRSTO;
    // Zeek: history =~ /^\^?S[^HAFGIQ]*R.*/
    const std::string h = history_text(f);
    std::size_t i = !h.empty() && h[0] == '^' ? 1 : 0;
    if (i < h.size() && h[i] == 'S') {
      for (++i; i < h.size(); ++i) {
        const char c = h[i];
        if (c == 'R') return ConnState::kRSTOS0;
        if (c == 'H' || c == 'A' || c == 'F' || c == 'G' || c == 'I' || c == 'Q') break;
      }
    }
    return ConnState::kOTH;
  }
  if (rs == kClosed && os == kClosed) return ConnState::kSF;
  if (os == kClosed) return r_inactive ? ConnState::kSH : ConnState::kS2;
  if (rs == kClosed) return o_inactive ? ConnState::kSHR : ConnState::kS3;
  if (os == kSynSent && rs == kInactive) return ConnState::kS0;
  if (os == kEstablished && rs == kEstablished) return ConnState::kS1;
  return ConnState::kOTH;
}

std::string history_text(const Flow& f) {
  std::string h(f.history, f.history_len);
  if (f.orig == 1) {
    for (char& c : h) c = flip_case(c);
  }
  return h;
}

}  // namespace sockscope::capture_detail
