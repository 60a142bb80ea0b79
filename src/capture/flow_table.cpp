// The conversation table: open addressing with linear probing over 8-byte slots
// (hash tag + record index), records in fixed chunks (stable addresses, no
// reallocation copies), a free list threaded through dead records, backward-shift
// deletion. Nothing is allocated per packet. A UDP tunnel's outer flow is found through
// its inner flow (a hint kept beside the inner flow's tunnel) when the hint holds.
//
// Ending conversations: a TCP SYN on a closed/reset pair (port reuse), the close delay
// after a TCP close, idle timeouts for the other transports (expiry is checked on
// lookup, so results do not depend on when the table is swept; sweeps every close
// delay of capture time reclaim the memory), and, when the table is full, the oldest
// idle sixteenth is emitted early.
#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstring>
#include <vector>

#include "capture/flow.hpp"
#include "capture/likely_server_ports.hpp"
#include "capture/tcp_gaps.hpp"
#include "core/radix_sort.hpp"
#include "sockscope/community_id.hpp"

namespace sockscope {

using capture_detail::Flow;
using capture_detail::FlowKey;
using capture_detail::make_key;
using capture_detail::seal;

namespace {

constexpr std::size_t kChunkBits = 15;  // 32768 records (5.25 MB) per chunk
constexpr std::size_t kChunk = std::size_t(1) << kChunkBits;
constexpr std::size_t kFragmentSlots = 4096;

// Memory for the table and its records in transparent huge pages where the kernel
// offers them: random lookups over ~100 MB would otherwise miss the TLB on nearly
// every packet (costly under virtualisation). Zero-filled, like mmap.
template <class T>
struct HugeArray {
  T* data = nullptr;
  std::size_t bytes = 0;
  // `huge`: ask for huge pages (only worth it for big tables: a first touch then
  // clears 2 MB, which small runs should not pay).
  explicit HugeArray(std::size_t n = 0, bool huge = false) {
    if (n == 0) return;
    bytes = (n * sizeof(T) + (2u << 20) - 1) & ~std::size_t((2u << 20) - 1);
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    if (huge) ::madvise(p, bytes, MADV_HUGEPAGE);
    data = static_cast<T*>(p);
  }
  HugeArray(HugeArray&& o) noexcept : data(o.data), bytes(o.bytes) { o.data = nullptr; }
  HugeArray& operator=(HugeArray&& o) noexcept {
    std::swap(data, o.data);
    std::swap(bytes, o.bytes);
    return *this;
  }
  ~HugeArray() {
    if (data) ::munmap(data, bytes);
  }
  T& operator[](std::size_t i) { return data[i]; }
  const T& operator[](std::size_t i) const { return data[i]; }
};

// A prefetch GCC keeps: __builtin_prefetch has no side effects in GCC's eyes, so a
// loop that only prefetches (as the record lookahead below) is deleted as dead code.
inline void prefetch(const void* p) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p);
#endif
}

struct Slot {
  std::uint32_t tag;
  std::uint32_t index_plus_1;  // 0 = empty
};

// Where the outer flow of a tunnelled flow's packets was last found, per side of the
// inner flow: (outer record index << 1 | outer side) + 1, 0 for none. Only a hint,
// checked against the outer packet each time (records are freed and reused).
struct OuterHints {
  std::uint32_t by_side[2];
};

struct FragmentEntry {
  std::uint8_t src[16], dst[16];
  std::uint32_t id;
  std::uint32_t flow;  // record index + 1; 0 = empty
  std::uint32_t tag;
  std::uint8_t protocol;
  std::uint8_t side;
};

IpAddress address_of(const std::uint8_t* bytes, std::uint8_t family) {
  return family == 4 ? IpAddress::v4_bytes(bytes) : IpAddress::v6_bytes(bytes);
}

}  // namespace

// ICMP as Zeek keys it: the client "port" is the type, the server "port" the
// counterpart type for request/reply types (echo 8/0, 128/129, Neighbor Discovery
// 135/136, ...), where a request and its reply share one canonical key; one-way types
// (errors, redirects, ...) keep the code as the server "port" and a key that keeps the
// direction (the sender is side 0), as Zeek's is_one_way tuples do. The echo identifier
// is not part of the key (it is not in Zeek's either).
void capture_detail::prepare_icmp_key(const PacketInfo& p, PreparedKey& out) {
  const std::uint8_t protocol = p.family == Family::kV6 ? 58 : 1;
  std::uint16_t counterpart;
  if (icmp_counterpart(protocol, p.src_port, &counterpart)) {
    out.side =
        make_key(out.key, p.transport, p.family, p.src, p.dst, p.src_port, counterpart, p.vlan);
    return;
  }
  std::memcpy(out.key.w, p.src, 16);
  std::memcpy(out.key.w + 2, p.dst, 16);
  out.key.w[4] =
      std::uint64_t(p.src_port) | std::uint64_t(p.dst_port) << 16 | std::uint64_t(p.vlan) << 32;
  out.key.w[5] = std::uint64_t(std::uint8_t(p.transport)) | std::uint64_t(std::uint8_t(p.family))
                                                                << 8;
  seal(out.key);
  out.side = 0;
}

struct ConversationTable::Impl {
  ConversationOptions options;
  Emit emit;
  HugeArray<Slot> slots;
  std::size_t slot_count = 0;
  std::uint32_t mask = 0;
  std::vector<HugeArray<Flow>> chunks;
  std::uint32_t records = 0;    // records handed out so far (live + free)
  std::uint32_t free_head = 0;  // index + 1 of the first free record
  std::size_t live = 0, peak = 0;
  std::uint64_t emitted = 0, evicted = 0, truncated = 0;
  std::uint64_t icmp_matched = 0, fragments = 0, orphans = 0;
  std::uint64_t by_transport[5] = {};
  std::uint64_t next_sweep_ns = 0;
  std::uint64_t shortest_lifetime = 0;  // min(idle timeout, close delay)
  std::vector<FragmentEntry> fragment_table = std::vector<FragmentEntry>(kFragmentSlots);
  capture_detail::FlowExtras extras;  // gap and checksum state of the few flows that need it
  // The tunnel of each flow a tunnelled packet opened, by record index: one array per
  // record chunk, mapped on first use (zero pages cost nothing until written), so that
  // the flow record does not grow and captures without tunnels pay nothing.
  std::vector<HugeArray<Tunnel>> tunnel_chunks;
  std::vector<HugeArray<OuterHints>> hint_chunks;  // beside tunnel_chunks, the same indices
  std::uint64_t inner_orphans = 0;

  Flow& flow(std::uint32_t index) { return chunks[index >> kChunkBits][index & (kChunk - 1)]; }

  void grow() {
    const std::size_t old_count = slot_count;
    const std::size_t cap = old_count == 0 ? (std::size_t(1) << 12) : old_count * 2;
    HugeArray<Slot> old = std::move(slots);
    slots = HugeArray<Slot>(cap, cap * sizeof(Slot) >= (4u << 20));
    slot_count = cap;
    mask = std::uint32_t(cap - 1);
    for (std::size_t k = 0; k < old_count; ++k) {
      const Slot& s = old[k];
      if (!s.index_plus_1) continue;
      std::uint32_t i = s.tag & mask;
      while (slots[i].index_plus_1) i = (i + 1) & mask;
      slots[i] = s;
    }
  }

  static constexpr std::uint32_t kProbe = ~std::uint32_t(0);  // no slot known

  // The slot holding `key`, or the empty slot where it would go (found = false).
  std::uint32_t probe(const FlowKey& key, bool& found) { return probe_inline(key, found); }
  // The same, inline where every packet takes it.
  [[gnu::always_inline]] std::uint32_t probe_inline(const FlowKey& key, bool& found) {
    const std::uint32_t tag = key.tag();
    std::uint32_t i = tag & mask;
    // Most keys sit in their home slot or the next one (the table is at most half
    // full): pick between the two without a branch (which one holds it is a coin
    // toss the predictor loses) and confirm with one predictable comparison. Equal
    // tags mean the same home, so a key in the second slot implies a full first one.
    {
      const std::uint32_t second = unsigned(slots[i].tag != tag);
      const std::uint32_t k = (i + second) & mask;
      const Slot c = slots[k];
      if (c.index_plus_1 && c.tag == tag && flow(c.index_plus_1 - 1).key == key) {
        found = true;
        return k;
      }
    }
    for (;;) {
      const Slot& s = slots[i];
      if (!s.index_plus_1) {
        found = false;
        return i;
      }
      if (s.tag == tag && flow(s.index_plus_1 - 1).key == key) {
        found = true;
        return i;
      }
      i = (i + 1) & mask;
    }
  }

  std::uint32_t allocate() {
    if (free_head) {
      const std::uint32_t index = free_head - 1;
      free_head = std::uint32_t(flow(index).first_ns);
      return index;
    }
    if ((records >> kChunkBits) >= chunks.size()) chunks.emplace_back(kChunk, true);
    return records++;
  }

  void erase_slot(std::uint32_t i) {
    std::uint32_t j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (!slots[j].index_plus_1) break;
      const std::uint32_t home = slots[j].tag & mask;
      // Move slots[j] back to the hole unless its home lies cyclically in (i, j].
      const bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (!stays) {
        slots[i] = slots[j];
        i = j;
      }
    }
    slots[i] = Slot{0, 0};
  }

  // The conversation of the flow at `index` as it stands (emit_flow() and the
  // open reports of for_each_open()).
  Conversation conversation_of(std::uint32_t index, bool early) {
    Flow& f = flow(index);
    const int o = f.orig, r = 1 - f.orig;
    Conversation c;
    c.pair.transport = f.key.transport();
    const IpAddress a = address_of(f.key.a(), f.key.family());
    const IpAddress b = address_of(f.key.b(), f.key.family());
    c.pair.first.address = o == 0 ? a : b;
    c.pair.second.address = o == 0 ? b : a;
    c.pair.first.port = o == 0 ? f.key.port_a() : f.key.port_b();
    c.pair.second.port = o == 0 ? f.key.port_b() : f.key.port_a();
    if (f.error_type != 0) {
      c.icmp_error = IcmpError{f.error_type, f.error_code, f.key.family() == 6};
    }
    c.evidence = Evidence(f.evidence);
    if (f.flags & capture_detail::kFlowTunnel) {
      c.tunnel = tunnel_chunks[index >> kChunkBits][index & (kChunk - 1)];
    }
    c.vlan = f.key.vlan();
    c.first_ns = f.first_ns;
    c.last_ns = f.last_ns;
    c.client = {f.packets[o], f.ip_bytes[o], f.payload[o]};
    c.server = {f.packets[r], f.ip_bytes[r], f.payload[r]};
    c.conn_state = capture_detail::conn_state(f);
    c.history = capture_detail::history_text(f);
    c.evicted_early = early;
    c.history_truncated = f.history_full != 0;
    if (const capture_detail::FlowExtra* x = extras.find(f, index)) {
      c.missed_bytes = x->missed_bytes;
    }
    return c;
  }

  void emit_flow(std::uint32_t index, bool early) {
    Flow& f = flow(index);
    const Conversation c = conversation_of(index, early);
    if (extras.find(f, index)) extras.erase(f, index);
    if (f.history_full) ++truncated;
    ++emitted;
    if (early) ++evicted;
    ++by_transport[std::uint8_t(f.key.transport()) % 5];
    if (emit) emit(c);
  }

  // Emits the flow in slot i and frees its record.
  void end_flow(std::uint32_t slot, bool early) {
    const std::uint32_t index = slots[slot].index_plus_1 - 1;
    Flow& f = flow(index);
    emit_flow(index, early);
    f.live = 0;
    f.first_ns = free_head;
    free_head = index + 1;
    erase_slot(slot);
    --live;
  }

  void end_flow_by_index(std::uint32_t index, bool early) {
    Flow& f = flow(index);
    bool found;
    const std::uint32_t slot = probe(f.key, found);
    if (found) end_flow(slot, early);
  }

  // Emits the oldest idle sixteenth of the table.
  void evict_oldest() {
    std::vector<std::pair<std::uint64_t, std::uint32_t>> by_age;
    by_age.reserve(live);
    for (std::uint32_t i = 0; i < records; ++i) {
      const Flow& f = flow(i);
      if (f.live) by_age.emplace_back(f.last_ns, i);
    }
    const std::size_t n = std::max<std::size_t>(1, by_age.size() / 16);
    std::nth_element(by_age.begin(), by_age.begin() + std::ptrdiff_t(n - 1), by_age.end());
    std::sort(by_age.begin(), by_age.begin() + std::ptrdiff_t(n));
    for (std::size_t k = 0; k < n; ++k) end_flow_by_index(by_age[k].second, true);
  }

  // The silence after which the flow is over: the close delay once TCP is closed by
  // both sides or reset, the idle timeout for other transports and half-closed TCP,
  // never for open TCP connections (only a SYN after the close starts a new one).
  std::uint64_t lifetime(const Flow& f) const {
    if (f.key.transport() != Transport::kTcp) return options.idle_timeout_ns;
    using capture_detail::kClosed;
    using capture_detail::kReset;
    const std::uint8_t a = f.state[0], b = f.state[1];
    if (a == kReset || b == kReset || (a == kClosed && b == kClosed)) {
      return options.tcp_close_delay_ns;
    }
    if (a == kClosed || b == kClosed) return options.idle_timeout_ns;
    return ~std::uint64_t(0);
  }

  // Nearly every packet comes within the shortest lifetime of its flow's last one:
  // that test alone decides them, without branching on transport and state.
  bool expired(const Flow& f, std::uint64_t now) const {
    return now > f.last_ns && now - f.last_ns > shortest_lifetime && now - f.last_ns > lifetime(f);
  }

  // Zeek's tcp_attempt_delay: a SYN the responder has not answered within the delay
  // ends the attempt (an S0 conversation); a later packet on the pair starts a new one.
  // The flag keeps the test to one byte for every other flow.
  bool attempt_over(const Flow& f, std::uint64_t now) const {
    return (f.flags & capture_detail::kFlowAttempt) && now >= f.first_ns &&
           now - f.first_ns >= options.tcp_attempt_delay_ns && capture_detail::attempting(f);
  }

  // Ends expired flows (memory reclamation: lookups check expiry themselves).
  void sweep(std::uint64_t now) {
    for (std::uint32_t i = 0; i < records; ++i) {
      const Flow& f = flow(i);
      if (f.live && (expired(f, now) || attempt_over(f, now))) end_flow_by_index(i, false);
    }
  }

  static constexpr std::uint8_t kSynAckRst = 0x02 | 0x10 | 0x04;
  // Whether the packet may end the flow, for nearly every packet decided by one
  // branch over three cheap tests: a silence longer than the shortest lifetime, an
  // attempt still running, a lone SYN (UDP has no flags). (A packet older than the
  // flow's last one wraps to a long silence: lookup()'s full tests then say it does
  // not end the flow.)
  [[gnu::always_inline]] bool may_end(const Flow& f, const PacketInfo& p) const {
    return (p.ts_ns - f.last_ns > shortest_lifetime) |
           ((f.flags & capture_detail::kFlowAttempt) != 0) | ((p.tcp_flags & kSynAckRst) == 0x02);
  }

  // The record for the key (created when new); `created` says which.
  // Inlined into its one caller: a call per packet and its register saves were ~15
  // instructions (cachegrind).
  // `known`: the slot holding the key, when the caller found it (kProbe: not yet).
  [[gnu::always_inline]] Flow& lookup(const FlowKey& key, const PacketInfo& p, int side,
                                      bool& created, std::uint32_t& index,
                                      std::uint32_t known = kProbe) {
    bool found = true;
    std::uint32_t slot = known;
    if (known == kProbe) slot = probe_inline(key, found);
    if (found) {
      index = slots[slot].index_plus_1 - 1;
      Flow& f = flow(index);
      if (!may_end(f, p) ||
          !(expired(f, p.ts_ns) || attempt_over(f, p.ts_ns) ||
            ((p.tcp_flags & kSynAckRst) == 0x02 && key.transport() == Transport::kTcp &&
             capture_detail::tcp_is_reuse(f, p)))) [[likely]] {
        created = false;
        return f;
      }
      end_flow(slot, false);
      slot = probe(key, found);
    }
    if (live >= options.max_conversations) {
      evict_oldest();
      slot = probe(key, found);
    }
    if ((live + 1) * 2 > slot_count) {
      grow();
      slot = probe(key, found);
    }
    index = allocate();
    Flow& f = flow(index);
    std::memset(&f, 0, sizeof(f));
    f.key = key;
    f.first_ns = f.last_ns = p.ts_ns;
    f.live = 1;
    slots[slot] = Slot{key.tag(), index + 1};
    if (++live > peak) peak = live;
    created = true;
    decide_roles(f, p, side);
    if (p.tunnel != TunnelKind::kNone) [[unlikely]]
      remember_tunnel(f, index, tunnel_of(p));
    return f;
  }

  // The packets being added and the tunnels beside them (null: kinds only), so that the
  // rare packet opening a tunnelled flow finds its tunnel by its place in the array and
  // no packet carries one.
  const PacketInfo* batch_packets = nullptr;
  const Tunnel* batch_tunnels = nullptr;
  std::size_t batch_size = 0;

  Tunnel tunnel_of(const PacketInfo& p) const {
    const std::size_t i = std::size_t(&p - batch_packets);
    if (batch_tunnels && &p >= batch_packets && i < batch_size) return batch_tunnels[i];
    Tunnel t;
    t.kind = p.tunnel;
    return t;
  }

  void remember_tunnel(Flow& f, std::uint32_t index, const Tunnel& t) {
    const std::size_t chunk = index >> kChunkBits;
    if (tunnel_chunks.size() <= chunk) tunnel_chunks.resize(chunk + 1);
    if (!tunnel_chunks[chunk].data) {
      tunnel_chunks[chunk] = HugeArray<Tunnel>(kChunk);
      if (hint_chunks.size() <= chunk) hint_chunks.resize(chunk + 1);
      hint_chunks[chunk] = HugeArray<OuterHints>(kChunk);
    }
    tunnel_chunks[chunk][index & (kChunk - 1)] = t;
    f.flags |= capture_detail::kFlowTunnel;
  }

  void decide_roles(Flow& f, const PacketInfo& p, int side) {
    constexpr std::uint8_t kSyn = 0x02, kAck = 0x10;
    f.orig = std::uint8_t(side);
    f.evidence = std::uint8_t(Evidence::kFirstPacket);
    if (p.transport == Transport::kTcp || p.transport == Transport::kUdp) {
      const bool syn = p.tcp_flags & kSyn, ack = p.tcp_flags & kAck;
      if (syn && !ack) {
        f.evidence = std::uint8_t(Evidence::kHandshake);
        return;
      }
      // Zeek's WantConnection: a first packet without a SYN (or a SYN-ACK) from a likely
      // server port to another port is a reply; from one likely port to another it is
      // one only when it is not a SYN-ACK and goes to the higher port.
      using capture_detail::likely_server_port;
      if (!likely_server_port(p.transport, p.src_port)) return;
      const bool flip = !likely_server_port(p.transport, p.dst_port) ||
                        (p.transport == Transport::kTcp && !syn && p.src_port < p.dst_port);
      if (!flip) return;
      f.orig = std::uint8_t(1 - side);
      f.evidence = std::uint8_t(syn ? Evidence::kHandshake : Evidence::kLikelyServerPort);
      capture_detail::add_history(f, 0, '^');  // Zeek's FlipRoles
      return;
    }
    if (p.transport == Transport::kSctp && p.sctp_init) {
      f.evidence = std::uint8_t(Evidence::kHandshake);
      return;
    }
    if (p.transport == Transport::kIcmp) return;  // the sender, as in Zeek (an advertisement's too)
    // SCTP and DCCP, which Zeek does not track: the port groups overrule the first packet
    // only with evidence of their own (well-known, or registered against ephemeral); a
    // lower-port guess does not.
    const SocketPair ports{p.transport, Endpoint{IpAddress(), p.src_port},
                           Endpoint{IpAddress(), p.dst_port}};
    const Role role = ports.role(options.ephemeral);
    if (role.client != Side::kFirst && !is_guess(role.evidence)) {
      f.orig = std::uint8_t(1 - side);
      f.evidence = std::uint8_t(role.evidence);
    }
  }

  // Zeek sets a TCP connection's last time only while one side has not closed (FIN
  // or RST, before this packet): its duration ends at the close, not at a last ACK.
  void count(Flow& f, int side, const PacketInfo& p, std::uint32_t payload) {
    ++f.packets[side];
    f.ip_bytes[side] += p.ip_bytes;
    f.payload[side] += payload;
    const std::uint64_t later = std::max(f.last_ns, p.ts_ns);
    f.last_ns = (f.flags & capture_detail::kFlowClosed) ? f.last_ns : later;
  }

  FragmentEntry& fragment_slot(const PacketInfo& p) {
    std::uint64_t h = p.fragment_id * 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 16; i += 8) {
      std::uint64_t s, d;
      std::memcpy(&s, p.src + i, 8);
      std::memcpy(&d, p.dst + i, 8);
      h = (h ^ s ^ (d * 31)) * 0xbf58476d1ce4e5b9ull;
    }
    return fragment_table[(h >> 40) % kFragmentSlots];
  }

  bool same_fragment(const FragmentEntry& e, const PacketInfo& p) {
    return e.flow && e.id == p.fragment_id && e.protocol == p.protocol &&
           std::memcmp(e.src, p.src, 16) == 0 && std::memcmp(e.dst, p.dst, 16) == 0;
  }

  void add_fragment(const PacketInfo& p) {
    FragmentEntry& e = fragment_slot(p);
    if (same_fragment(e, p)) {
      Flow& f = flow(e.flow - 1);
      if (f.live && f.key.tag() == e.tag) {
        count(f, e.side, p, p.payload_bytes);
        ++fragments;
        return;
      }
    }
    ++orphans;
    inner_orphans += p.inner;
  }

  // Zeek's view of an ICMP error: a conversation of its own (counted by the caller),
  // and on the conversation of the packet it quotes only a note of the error (the first
  // one), never a reply: UDP to a closed port stays S0.
  void note_icmp_error(const PacketInfo& p) {
    FlowKey key;
    make_key(key, p.quoted_transport, p.family, p.quoted_src, p.quoted_dst, p.quoted_src_port,
             p.quoted_dst_port, p.vlan);
    bool found;
    const std::uint32_t slot = probe(key, found);
    if (!found) return;
    Flow& f = flow(slots[slot].index_plus_1 - 1);
    if (f.error_type == 0) {
      f.error_type = std::uint8_t(p.src_port);
      f.error_code = std::uint8_t(p.dst_port);
    }
    ++icmp_matched;
  }

  using Prepared = capture_detail::PreparedKey;
  static void prepare(const PacketInfo& p, Prepared& out) { capture_detail::prepare_key(p, out); }

  // Swept as often as the shortest lifetime, so an ended flow is held at most twice
  // that long.
  std::uint64_t sweep_interval() const {
    return std::max<std::uint64_t>(1,
                                   std::min(options.idle_timeout_ns, options.tcp_close_delay_ns));
  }

  void maybe_sweep(const PacketInfo& p) {
    if (p.ts_ns >= next_sweep_ns) {
      if (next_sweep_ns != 0) sweep(p.ts_ns);
      next_sweep_ns = p.ts_ns + sweep_interval();
    }
  }

  // Inlined into the batch loop: a call per packet saved and restored ~18
  // instructions of registers (cachegrind).
  // Returns the flow's record index. `known`: as lookup()'s.
  [[gnu::always_inline]] std::uint32_t add_prepared(const PacketInfo& p, const Prepared& pr,
                                                    std::uint32_t known = kProbe) {
    bool created;
    std::uint32_t index;
    Flow& f = lookup(pr.key, p, pr.side, created, index, known);
    const int side = pr.side;
    count(f, side, p, p.payload_bytes);
    if (p.transport == Transport::kTcp) {
      capture_detail::GapCheck gaps;
      if (capture_detail::tcp_update(f, side, p, gaps)) [[unlikely]] {
        track_gaps(f, index, side, p, gaps);
      }
    } else if (p.transport == Transport::kUdp) {
      capture_detail::udp_update(f, side, p);
    }
    if (p.first_fragment) {
      FragmentEntry& e = fragment_slot(p);
      std::memcpy(e.src, p.src, 16);
      std::memcpy(e.dst, p.dst, 16);
      e.id = p.fragment_id;
      e.protocol = p.protocol;
      e.flow = index + 1;
      e.tag = f.key.tag();
      e.side = std::uint8_t(side);
    }
    return index;
  }

  OuterHints* outer_hints(std::uint32_t index) {
    return &hint_chunks[index >> kChunkBits][index & (kChunk - 1)];
  }

  // The outer packet `p` of a tunnel's record whose inner packet's key is `inner`
  // (tunnel_outer()), counted on its flow as add_prepared() would, when the inner
  // flow's hint names a live flow with the outer packet's pair and the packet cannot
  // end it; `inner_slot` is then the slot of the inner key, for the inner packet's
  // lookup. False, with nothing changed, otherwise. Without the hint each record
  // computed the outer key and probed for it besides the inner one's (VXLAN with a
  // fixed outer port: 927 -> 877 instructions per record, cachegrind).
  [[gnu::always_inline]] bool add_outer_by_hint(const PacketInfo& p, const Prepared& inner,
                                                std::uint32_t& inner_slot) {
    bool found;
    const std::uint32_t slot = probe_inline(inner.key, found);
    if (!found) return false;
    inner_slot = slot;
    const std::uint32_t inner_index = slots[slot].index_plus_1 - 1;
    if (!(flow(inner_index).flags & capture_detail::kFlowTunnel)) return false;
    const std::uint32_t hint = outer_hints(inner_index)->by_side[inner.side];
    const std::uint32_t index = (hint - 1) >> 1;
    if (hint == 0 || index >= records) return false;
    const int side = int((hint - 1) & 1);
    Flow& f = flow(index);
    // The pair, read from `side`: at most one live flow has a key, so this is the
    // flow probe() would find.
    std::uint64_t src[2], dst[2];
    std::memcpy(src, p.src, 16);
    std::memcpy(dst, p.dst, 16);
    const std::uint64_t* own = f.key.w + 2 * side;
    const std::uint64_t* peer = f.key.w + 2 - 2 * side;
    const std::uint64_t forward = std::uint64_t(p.src_port) | std::uint64_t(p.dst_port) << 16;
    const std::uint64_t backward = std::uint64_t(p.dst_port) | std::uint64_t(p.src_port) << 16;
    const std::uint64_t ports = (side == 0 ? forward : backward) | std::uint64_t(p.vlan) << 32;
    const std::uint32_t kinds =
        std::uint32_t(std::uint8_t(p.transport)) | std::uint32_t(std::uint8_t(p.family)) << 8;
    if (!f.live ||
        ((own[0] ^ src[0]) | (own[1] ^ src[1]) | (peer[0] ^ dst[0]) | (peer[1] ^ dst[1]) |
         (f.key.w[4] ^ ports) | std::uint64_t(std::uint32_t(f.key.w[5]) ^ kinds)) != 0) {
      return false;
    }
    // A packet that may end the flow (or a first fragment) takes the full way.
    if (may_end(f, p) | p.first_fragment) return false;
    count(f, side, p, p.payload_bytes);
    capture_detail::udp_update(f, side, p);
    return true;
  }

  // The outer packet of a tunnel's record (tunnel_outer()), before its inner packet
  // `inner`. Leaves for the inner packet's add_prepared() the slot of its key when
  // known (`inner_slot`), and the outer flow's place when it had to be looked up
  // (`hint`, for remember_outer()).
  [[gnu::always_inline]] void add_outer(const PacketInfo& outer, const PacketInfo& inner,
                                        const Prepared& inner_key, std::uint32_t& inner_slot,
                                        std::uint32_t& hint) {
    if (!add_outer_by_hint(outer, inner_key, inner_slot)) {
      inner_slot = kProbe;  // the outer packet may move slots
      Prepared outer_key;
      prepare(outer, outer_key);
      hint = ((add_prepared(outer, outer_key) << 1) | std::uint32_t(outer_key.side)) + 1;
    }
    if (inner.ts_ns >= next_sweep_ns) inner_slot = kProbe;  // the inner packet sweeps first
  }

  // The outer flow of the tunnelled flow at `index` (an inner packet's, from `side`).
  void remember_outer(std::uint32_t index, int side, std::uint32_t hint) {
    if (flow(index).flags & capture_detail::kFlowTunnel) outer_hints(index)->by_side[side] = hint;
  }

  // Out of line: the batch loop keeps nothing alive for the rare packet that needs it.
  [[gnu::noinline, gnu::cold]] void track_gaps(Flow& f, std::uint32_t index, int side,
                                               const PacketInfo& p,
                                               const capture_detail::GapCheck& gaps) {
    capture_detail::track_gaps(f, extras.get(f, index), side, p, gaps);
  }

  // Zeek drops a packet with a bad checksum after its C/c letter: the flow it names
  // (made if new) gets the letter, nothing else.
  void add_bad_checksum(const PacketInfo& p, const Prepared& pr) {
    bool created;
    std::uint32_t index;
    Flow& f = lookup(pr.key, p, pr.side, created, index);
    capture_detail::note_bad_checksum(f, extras.get(f, index), pr.side, p.transport);
  }

  [[gnu::noinline]] void add_one(const PacketInfo& p, const Prepared* pr) {
    maybe_sweep(p);
    if (p.kind == PacketInfo::Kind::kFragment) return add_fragment(p);
    if (p.kind == PacketInfo::Kind::kBadChecksum) {
      Prepared local;
      if (!pr) prepare(p, local);
      return add_bad_checksum(p, pr ? *pr : local);
    }
    if (p.kind == PacketInfo::Kind::kIcmpError) note_icmp_error(p);
    if (pr) {
      add_prepared(p, *pr);
      return;
    }
    Prepared local;
    prepare(p, local);
    add_prepared(p, local);
  }

  // Packets in order, with the memory they will touch requested ahead, as a software
  // pipeline: the slot kSlotAhead packets ahead, the record (found through its slot)
  // kRecordAhead packets ahead. The table is far larger than the caches and each
  // packet needs a slot and a record; spreading the requests evenly keeps enough
  // misses in flight without stalling on a full set of miss buffers.
  // `keys`: prepare_keys()' for the packets (null: computed here), `by_hint` its result.
  void add_batch(const PacketInfo* packets, const Prepared* keys, bool by_hint,
                 const Tunnel* tunnels, std::size_t n) {
    batch_packets = packets;
    batch_tunnels = tunnels;
    batch_size = n;
    Prepared computed[ConversationTable::kBatch];
    if (!keys) by_hint = capture_detail::prepare_keys(packets, computed, n);
    // A batch without tunnel_outer() packets pays nothing for them.
    if (by_hint) {
      count_batch<true>(packets, keys ? keys : computed, n);
    } else {
      count_batch<false>(packets, keys ? keys : computed, n);
    }
  }

  // `kByHint`: some keys are kKeyByHint's (tunnel_outer() packets).
  template <bool kByHint>
  void count_batch(const PacketInfo* packets, const Prepared* prepared, std::size_t n) {
    constexpr std::size_t kSlotAhead = 16, kRecordAhead = 6;
    // Every packet has a key here, fragments included (theirs, without ports, is
    // only ever used to prefetch): the lookahead needs no test of the packet's kind.
    const auto prefetch_slot = [&](std::size_t j) {
      prefetch(&slots[prepared[j].key.tag() & mask]);
    };
    // The record whose slot carries the packet's tag (not just the home slot's:
    // with linear probing a good share of keys live a few slots further on).
    const auto prefetch_record = [&](std::size_t j) {
      // The home slot or the next, chosen as probe() does (no branch); a key further
      // on, or a new one, gets a useless but harmless prefetch.
      const std::uint32_t tag = prepared[j].key.tag();
      const std::uint32_t i = tag & mask;
      const Slot c = slots[(i + unsigned(slots[i].tag != tag)) & mask];
      if (!c.index_plus_1) return;
      const char* f = reinterpret_cast<const char*>(&flow(c.index_plus_1 - 1));
      prefetch(f);
      prefetch(f + 64);
      prefetch(f + 128);
    };
    for (std::size_t j = 0; j < std::min(n, kSlotAhead); ++j) prefetch_slot(j);
    for (std::size_t j = 0; j < std::min(n, kRecordAhead); ++j) prefetch_record(j);
    // Left by a tunnel's outer packet (add_outer()) for the inner one that follows.
    [[maybe_unused]] std::uint32_t inner_slot = kProbe, hint = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (i + kSlotAhead < n) prefetch_slot(i + kSlotAhead);
      if (i + kRecordAhead < n) prefetch_record(i + kRecordAhead);
      const PacketInfo& p = packets[i];
      if (p.kind == PacketInfo::Kind::kNormal) {  // add_one()'s common case, inline
        maybe_sweep(p);
        if constexpr (kByHint) {
          if (prepared[i].side == capture_detail::kKeyByHint) {
            add_outer(p, packets[i + 1], prepared[i + 1], inner_slot, hint);
            continue;
          }
          const std::uint32_t index = add_prepared(p, prepared[i], inner_slot);
          inner_slot = kProbe;
          if (hint) {
            remember_outer(index, prepared[i].side, hint);
            hint = 0;
          }
        } else {
          add_prepared(p, prepared[i]);
        }
      } else {
        add_one(p, p.kind == PacketInfo::Kind::kFragment ? nullptr : &prepared[i]);
      }
    }
  }

  void finish() {
    std::vector<std::pair<std::uint64_t, std::uint32_t>> order;
    order.reserve(live);
    for (std::uint32_t i = 0; i < records; ++i) {
      if (flow(i).live) order.emplace_back(flow(i).first_ns, i);
    }
    // By first packet (ties by index, as the collection loop left them); the records
    // are then visited in that scattered order, so each is fetched a few ahead.
    radix_sort(order, [](const auto& e) { return e.first; });
    constexpr std::size_t kAhead = 8;
    for (std::size_t k = 0; k < order.size(); ++k) {
      if (k + kAhead < order.size()) {
        const auto* ahead = reinterpret_cast<const char*>(&flow(order[k + kAhead].second));
        prefetch(ahead);
        prefetch(ahead + 64);
        prefetch(ahead + 128);
      }
      emit_flow(order[k].second, false);
      flow(order[k].second).live = 0;
    }
    std::memset(slots.data, 0, slot_count * sizeof(Slot));
    chunks.clear();
    extras.clear();
    tunnel_chunks.clear();
    hint_chunks.clear();
    records = 0;
    free_head = 0;
    live = 0;
  }
};

ConversationTable::ConversationTable(ConversationOptions options, Emit emit)
    : impl_(std::make_unique<Impl>()) {
  if (options.max_conversations == 0) options.max_conversations = 1;
  impl_->options = options;
  impl_->shortest_lifetime = std::min(options.idle_timeout_ns, options.tcp_close_delay_ns);
  impl_->emit = std::move(emit);
  impl_->grow();
}

ConversationTable::~ConversationTable() = default;

void ConversationTable::add(const PacketInfo& packet, const Tunnel* tunnel) {
  impl_->batch_packets = &packet;
  impl_->batch_tunnels = tunnel;
  impl_->batch_size = 1;
  impl_->add_one(packet, nullptr);
}
void ConversationTable::add_batch(const PacketInfo* packets, std::size_t n, const Tunnel* tunnels) {
  while (n > kBatch) {
    impl_->add_batch(packets, nullptr, false, tunnels, kBatch);
    packets += kBatch;
    if (tunnels) tunnels += kBatch;
    n -= kBatch;
  }
  impl_->add_batch(packets, nullptr, false, tunnels, n);
}
void capture_detail::TableAccess::add_batch(ConversationTable& table, const PacketInfo* packets,
                                            const PreparedKey* keys, bool by_hint,
                                            const Tunnel* tunnels, std::size_t n) {
  table.impl_->add_batch(packets, keys, by_hint, tunnels, n);
}
void ConversationTable::finish() { impl_->finish(); }
void ConversationTable::expire(std::uint64_t now_ns) { impl_->sweep(now_ns); }
void ConversationTable::for_each_open(const Emit& report) const {
  std::vector<std::pair<std::uint64_t, std::uint32_t>> order;
  order.reserve(impl_->live);
  for (std::uint32_t i = 0; i < impl_->records; ++i) {
    if (impl_->flow(i).live) order.emplace_back(impl_->flow(i).first_ns, i);
  }
  std::sort(order.begin(), order.end());
  for (const auto& [first, index] : order) {
    Conversation c = impl_->conversation_of(index, false);
    c.open = true;
    report(c);
  }
}
const ConversationOptions& ConversationTable::options() const { return impl_->options; }
std::size_t ConversationTable::live() const { return impl_->live; }
std::size_t ConversationTable::peak_live() const { return impl_->peak; }
std::uint64_t ConversationTable::emitted() const { return impl_->emitted; }
std::uint64_t ConversationTable::evicted_early() const { return impl_->evicted; }
std::uint64_t ConversationTable::histories_truncated() const { return impl_->truncated; }
std::uint64_t ConversationTable::emitted_by_transport(Transport t) const {
  return impl_->by_transport[std::size_t(t) % 5];
}
std::uint64_t ConversationTable::icmp_errors_matched() const { return impl_->icmp_matched; }
std::uint64_t ConversationTable::fragments_matched() const { return impl_->fragments; }
std::uint64_t ConversationTable::orphan_fragments() const { return impl_->orphans; }
std::uint64_t ConversationTable::inner_orphan_fragments() const { return impl_->inner_orphans; }

std::size_t ConversationTable::bytes_per_conversation() {
  // A record plus its slot at the highest load (1/2) and the lowest after growth (1/4).
  return sizeof(Flow) + 4 * sizeof(Slot);
}

}  // namespace sockscope
