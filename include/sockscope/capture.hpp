// sockscope/capture.hpp: packets demultiplexed into conversations by socket pair.
//
//   #include <sockscope/capture_input.hpp>
//   #include <iostream>
//   #include <vector>
//   ConversationOptions options;  // UDP/ICMP idle timeout 60 s, TCP close delay 5 s, ...
//   std::vector<Conversation> done;
//   ConversationTable table(options, [&](const Conversation& c) { done.push_back(c); });
//   auto input = CaptureInput::open_file("sample.pcapng");  // capture_input.hpp: ours or libpcap
//   if (!input) return 1;
//   CaptureStats stats;
//   (*input)->read(table, stats);  // every packet into the table
//   table.finish();                // emits the conversations still open
//   std::cout << done.size() << " conversations\n";  // => 40 conversations
//   const Conversation& c = done.front();           // the first to end
//   std::cout << c.pair.to_string() << '\n';  // pair.first is the client
//   // => udp 10.0.0.11:49651, 198.51.100.169:53
//   std::cout << to_string(c.conn_state) << ' ' << c.history << '\n';  // as Zeek says them
//   // => SF Dd
//   std::cout << c.community_id() << '\n';  // => 1:QaC9AV9bgGOb4ovU7Jg7/szmj4w=
//
// A conversation is one occurrence of a socket pair: a TCP connection (a SYN after the
// previous connection on the same pair closed starts a new one), or UDP/SCTP/ICMP traffic
// on one pair until it is idle for longer than the timeout. ICMP pairs as Zeek pairs it:
// a request and its reply are one conversation, each one-way type (errors included) and
// direction one of its own. Its key is the transport, the
// canonical socket pair and the VLAN ids. Each conversation is emitted exactly once:
// when it ends, when the table is full (the oldest idle ones go first, counted in
// evicted_early()), or at finish().
//
// Thread safety: a ConversationTable is used from one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sockscope/error.hpp"
#include "sockscope/port.hpp"
#include "sockscope/socket_pair.hpp"

namespace sockscope {

// Zeek's conn_state values (conn.log), with Zeek's meaning.
enum class ConnState : std::uint8_t {
  kS0,      // attempt seen, no reply
  kS1,      // established, not terminated
  kSF,      // normal establishment and termination
  kREJ,     // attempt rejected
  kS2,      // established, close attempt by originator seen (no reply)
  kS3,      // established, close attempt by responder seen (no reply)
  kRSTO,    // established, originator aborted (RST)
  kRSTR,    // responder sent a RST
  kRSTOS0,  // originator sent a SYN then a RST, no SYN-ACK seen
  kRSTRH,   // responder sent a SYN-ACK then a RST, no SYN seen
  kSH,      // originator sent a SYN then a FIN, no SYN-ACK seen
  kSHR,     // responder sent a SYN-ACK then a FIN, no SYN seen
  kOTH,     // no SYN seen, midstream traffic
};
std::string_view to_string(ConnState state);  // "S0", "SF", ...

// Why a packet did not become part of a conversation.
enum class DropReason : std::uint8_t {
  kTruncatedLink,       // shorter than its link-layer header
  kUnsupportedLink,     // link type not decoded (see capture_reader.hpp)
  kNotIp,               // ARP, LLDP, ... (not an error, but not a socket pair)
  kTruncatedIp,         // IP header cut short (snaplen or damage)
  kBadIpHeader,         // wrong version, header length or total length
  kTruncatedTransport,  // transport header cut short
  kBadTransportHeader,  // e.g. TCP data offset < 5 or past the IP payload
  kOtherProtocol,       // IP protocol without ports we model (GRE, ESP, OSPF, ...)
  kOrphanFragment,      // a later fragment whose first fragment was not seen
  kTruncatedRecord,     // the capture file's record is damaged
  kBadIpChecksum,       // IPv4 header checksum wrong (only when verifying checksums)
  kTunnelTooDeep,       // more tunnels (or MPLS/NSH/PPPoE layers) nested than the limit
  kTruncatedTunnel,     // a tunnel header cut short
  kBadTunnelHeader,     // a tunnel header that breaks its own rules (version, lengths)
};
inline constexpr std::size_t kDropReasonCount = 14;
// "truncated-link", "unsupported-link", "not-ip", "truncated-ip", "bad-ip-header",
// "truncated-transport", "bad-transport-header", "other-protocol", "orphan-fragment",
// "truncated-record", "bad-ip-checksum", "tunnel-too-deep", "truncated-tunnel",
// "bad-tunnel-header".
std::string_view to_string(DropReason reason);

// Encapsulations opened to reach the conversations inside them.
enum class TunnelKind : std::uint8_t {
  kNone,
  kVxlan,        // UDP 4789 (and 8472, Linux's old default), inner Ethernet
  kVxlanGpe,     // UDP 4790, inner Ethernet, IP, NSH or MPLS
  kGeneve,       // UDP 6081, with options
  kGre,          // IP protocol 47 (RFC 2784/2890 keys and sequence numbers; Ethernet, IP,
                 // MPLS, PPP of PPTP's enhanced GRE, WCCP and Cisco metadata inside)
  kErspanI,      // GRE 0x88BE without a sequence number: Ethernet directly
  kErspanII,     // GRE 0x88BE with its 8-byte header
  kErspanIII,    // GRE 0x22EB with its 12-byte header (and platform subheader)
  kIpInIp,       // IPv4 in IPv4 (protocol 4)
  k6In4,         // IPv6 in IPv4 (protocol 41)
  k4In6,         // IPv4 in IPv6
  k6In6,         // IPv6 in IPv6 (segment routing encapsulation too)
  kTeredo,       // UDP 3544, with origin and authentication indications
  kGtpU,         // UDP 2152, G-PDU (with extension headers)
  kMplsUdp,      // UDP 6635, an MPLS label stack
  kPimRegister,  // PIM register messages (IP protocol 103): the multicast packet inside
};
inline constexpr std::size_t kTunnelKindCount = 16;
// "none", "vxlan", "vxlan-gpe", "geneve", "gre", "erspan-i", "erspan-ii", "erspan-iii",
// "ip-in-ip", "6in4", "4in6", "6in6", "teredo", "gtp-u", "mpls-udp", "pim-register".
std::string_view to_string(TunnelKind kind);

// Tunnels nested deeper than this are not opened (their packets are counted by reason
// tunnel-too-deep): a crafted packet cannot make the decoder recurse without end.
inline constexpr std::size_t kMaxTunnelDepth = 4;

// The tunnel a packet or conversation was found in, as Zeek's tunnel_parents names
// the encapsulating connection: the innermost tunnel's kind and the outer header of
// the packet that carried it (as that packet was sent; ports only for UDP tunnels).
struct Tunnel {
  TunnelKind kind = TunnelKind::kNone;  // kNone: not in a tunnel
  std::uint8_t depth = 0;               // tunnels around it (1 = one)
  std::uint8_t outer_protocol = 0;      // IP protocol of the outer header: 17, 47, 4, 41, 103
  Family outer_family = Family::kV4;
  std::uint16_t outer_src_port = 0, outer_dst_port = 0;  // UDP tunnels
  std::uint8_t outer_src[16] = {}, outer_dst[16] = {};   // network order
  IpAddress source() const;
  IpAddress destination() const;
  // The outer UDP socket pair of a UDP tunnel (VXLAN, Geneve, Teredo, ...).
  std::optional<SocketPair> outer_pair() const;
  // "vxlan udp 192.0.2.1:54321 -> 192.0.2.2:4789", "gre 192.0.2.1 -> 192.0.2.2".
  std::string to_string() const;
  bool operator==(const Tunnel&) const = default;
};

// Packets and bytes sent by one side. IP bytes include the IP and transport headers
// (as the IP length fields say, whatever the snaplen); payload bytes are what is left
// after the transport header.
struct DirectionStats {
  std::uint64_t packets = 0;
  std::uint64_t ip_bytes = 0;
  std::uint64_t payload_bytes = 0;
  friend bool operator==(const DirectionStats&, const DirectionStats&) = default;
};

// An ICMP error (destination unreachable, time exceeded, ...) that quoted a packet
// of a conversation. As in Zeek the error is a conversation of its own (ICMP); the
// quoted conversation only notes it, so UDP to a closed port stays S0.
struct IcmpError {
  std::uint8_t type = 0, code = 0;
  bool v6 = false;  // ICMPv6
  // "port-unreachable", "host-unreachable", "ttl-exceeded", "packet-too-big", ...
  std::string_view name() const;
  friend bool operator==(const IcmpError&, const IcmpError&) = default;
};

struct Conversation {
  // first = client, second = server. For ICMP, as in Zeek and the Community ID spec:
  // client port = ICMP type of the first packet; server port = the counterpart type of
  // a request/reply type (echo 8/0, 128/129, Neighbor Discovery 135/136, ...), else the
  // code. The sender of the first packet is the client (an advertisement's sender too).
  SocketPair pair;
  Evidence evidence = Evidence::kLowerPortGuess;
  std::uint32_t vlan = 0;      // outer VLAN id << 12 | inner VLAN id; 0 = untagged
  std::uint64_t first_ns = 0;  // first packet, nanoseconds since the Unix epoch
  std::uint64_t last_ns = 0;
  DirectionStats client;
  DirectionStats server;
  ConnState conn_state = ConnState::kOTH;
  std::string history;         // Zeek's letters, upper case for the client
  bool evicted_early = false;  // emitted because the table was full
  // Bytes of TCP sequence space the peer acknowledged but the capture never had, in
  // both directions, as Zeek's content gaps count them (history G/g); only for
  // connections established with a handshake, as Zeek reports them.
  std::uint64_t missed_bytes = 0;
  // The tunnel its first packet came in (kind kNone when none). Its Community ID and
  // pair are the inner ones; the outer UDP conversation of a UDP tunnel is reported too.
  Tunnel tunnel;
  // The history has more letters than the 16 kept (retransmission and zero-window
  // letters past the first ones, on both sides): `history` holds the first 16.
  bool history_truncated = false;
  // Reported while it still goes on (ConversationTable::for_each_open): the counts
  // so far; the same conversation is emitted again when it ends.
  bool open = false;
  // The first ICMP error that quoted a packet of this conversation (TCP, UDP, SCTP, DCCP).
  std::optional<IcmpError> icmp_error;
  std::uint64_t duration_ns() const { return last_ns - first_ns; }
  std::uint64_t packets() const { return client.packets + server.packets; }
  std::uint64_t ip_bytes() const { return client.ip_bytes + server.ip_bytes; }
  std::string community_id() const;
};

struct ConversationOptions {
  // UDP, SCTP, DCCP and ICMP conversations end after this much silence; so do TCP
  // connections of which one side has closed (a half-close).
  std::uint64_t idle_timeout_ns = 60'000'000'000ull;
  // A TCP connection closed by both sides, or reset, ends after this much silence
  // (Zeek's tcp_close_delay): a later packet on its pair starts a new conversation.
  // Late FINs, ACKs and RSTs within the delay still count on the closed connection.
  std::uint64_t tcp_close_delay_ns = 5'000'000'000ull;
  // A TCP SYN the responder has not answered within this delay ends the attempt (an S0
  // conversation; Zeek's tcp_attempt_delay): a later SYN on the pair starts a new one.
  std::uint64_t tcp_attempt_delay_ns = 5'000'000'000ull;
  // Live conversations held at most; when full, the oldest idle ones are emitted early.
  std::size_t max_conversations = 4'000'000;
  // Check IPv4 header, TCP, UDP and ICMP checksums of packets captured whole (off by
  // default, as Zeek's -C): a bad IPv4 header drops the packet (bad-ip-checksum); a
  // bad TCP or UDP checksum leaves only a history letter C/c on the conversation (TCP:
  // scaled like T and W) and is not counted otherwise, as in Zeek.
  bool verify_checksums = false;
  // The ephemeral range that counts for the port-group rule (Linux's by default).
  std::optional<PortRange> ephemeral = PortRange{32768, 60999};
};

// Counters of one run, over every packet given to the table or dropped before it.
struct CaptureStats {
  std::uint64_t packets = 0;     // records read
  std::uint64_t decoded = 0;     // packets counted on a conversation
  std::uint64_t wire_bytes = 0;  // original lengths of the records read
  std::uint64_t dropped[kDropReasonCount] = {};
  std::uint64_t icmp_errors_matched = 0;  // ICMP errors noted on the conversation they quote
  std::uint64_t fragments = 0;            // later fragments attributed to a conversation
  std::uint64_t bad_checksums = 0;        // TCP/UDP/ICMP packets with a wrong checksum (verifying)
  // Records whose outer packet was counted but whose tunnel's inside was not, by reason
  // (truncated-tunnel, tunnel-too-deep, not-ip for ARP in VXLAN, ...).
  std::uint64_t inner_dropped[kDropReasonCount] = {};
  // Records in which a tunnel of that kind was opened (whether or not its inside counted).
  std::uint64_t tunnelled[kTunnelKindCount] = {};
  std::uint64_t dropped_total() const;
  void add(const CaptureStats& other);
};

struct PacketInfo;  // a decoded packet (capture_reader.hpp)
namespace capture_detail {
struct TableAccess;  // the file pipeline's way in (src/capture/flow.hpp)
}

// The flow table: compact open addressing, no allocation per packet.
class ConversationTable {
 public:
  using Emit = std::function<void(const Conversation&)>;
  ConversationTable(ConversationOptions options, Emit emit);
  ~ConversationTable();
  ConversationTable(const ConversationTable&) = delete;
  ConversationTable& operator=(const ConversationTable&) = delete;

  // Counts one decoded packet (with its Tunnel when packet.tunnel is not kNone, as
  // decode_record() gives it). REQUIRES: packets in (roughly) time order.
  void add(const PacketInfo& packet, const Tunnel* tunnel = nullptr);
  // The same for consecutive packets, faster: memory is fetched ahead (kBatch at a time).
  static constexpr std::size_t kBatch = 256;
  void add_batch(const PacketInfo* packets, std::size_t n, const Tunnel* tunnels = nullptr);
  // Emits every conversation still held (call once, at the end).
  void finish();
  // Ends the conversations that have been silent past their timeout at `now_ns`
  // (nanoseconds since the Unix epoch): live capture calls it with the clock, so a
  // conversation ends on time even when no later packet comes.
  void expire(std::uint64_t now_ns);
  // Each conversation still held as it stands now, marked `open`, without ending
  // it (Zeek's open-connections reports), oldest first.
  void for_each_open(const Emit& report) const;
  const ConversationOptions& options() const;

  std::size_t live() const;                   // conversations held now
  std::size_t peak_live() const;              // most held at once
  std::uint64_t emitted() const;              // conversations emitted so far
  std::uint64_t evicted_early() const;        // of those, emitted early because the table was full
  std::uint64_t histories_truncated() const;  // of those, with history_truncated
  std::uint64_t emitted_by_transport(Transport t) const;
  std::uint64_t icmp_errors_matched() const;
  std::uint64_t fragments_matched() const;
  std::uint64_t orphan_fragments() const;
  std::uint64_t inner_orphan_fragments() const;  // of those, inside a tunnel's record
  // Bytes held per live conversation (table slots and records), for the memory goal.
  static std::size_t bytes_per_conversation();

 private:
  friend struct capture_detail::TableAccess;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sockscope
