// sockscope/capture.hpp: packets demultiplexed into conversations by socket pair.
//
//   sockscope::ConversationOptions options;              // UDP/ICMP idle timeout 60 s, ...
//   std::vector<sockscope::Conversation> done;
//   sockscope::ConversationTable table(options, [&](const Conversation& c) { done.push_back(c); });
//   auto stats = sockscope::read_capture_file("trace.pcapng", table);  // ours: pcap + pcapng
//   table.finish();                                       // emits the conversations still open
//   done[0].pair.first;                                   // the client endpoint
//   done[0].conn_state;                                   // ConnState::kSF, as Zeek says it
//   done[0].history;                                      // "ShADadFf"
//   done[0].community_id();                               // "1:..."
//
// A conversation is one occurrence of a socket pair: a TCP connection (a SYN after the
// previous connection on the same pair closed starts a new one), or UDP/SCTP/ICMP traffic
// on one pair until it is idle for longer than the timeout. Its key is the transport, the
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
};
inline constexpr std::size_t kDropReasonCount = 10;
// "truncated-link", "unsupported-link", "not-ip", "truncated-ip", "bad-ip-header",
// "truncated-transport", "bad-transport-header", "other-protocol", "orphan-fragment",
// "truncated-record".
std::string_view to_string(DropReason reason);

// Packets and bytes sent by one side. IP bytes include the IP and transport headers
// (as the IP length fields say, whatever the snaplen); payload bytes are what is left
// after the transport header.
struct DirectionStats {
  std::uint64_t packets = 0;
  std::uint64_t ip_bytes = 0;
  std::uint64_t payload_bytes = 0;
  friend bool operator==(const DirectionStats&, const DirectionStats&) = default;
};

struct Conversation {
  // first = client, second = server. For ICMP, as in Zeek and the Community ID spec:
  // client port = ICMP type of the first packet, server port = the code.
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
  // The history has more letters than the 16 kept (retransmission and zero-window
  // letters past the first ones, on both sides): `history` holds the first 16.
  bool history_truncated = false;
  // Reported while it still goes on (ConversationTable::for_each_open): the counts
  // so far; the same conversation is emitted again when it ends.
  bool open = false;
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
  // Live conversations held at most; when full, the oldest idle ones are emitted early.
  std::size_t max_conversations = 4'000'000;
  // The ephemeral range that counts for the port-group rule (Linux's by default).
  std::optional<PortRange> ephemeral = PortRange{32768, 60999};
};

// Counters of one run, over every packet given to the table or dropped before it.
struct CaptureStats {
  std::uint64_t packets = 0;     // records read
  std::uint64_t decoded = 0;     // packets counted on a conversation
  std::uint64_t wire_bytes = 0;  // original lengths of the records read
  std::uint64_t dropped[kDropReasonCount] = {};
  std::uint64_t icmp_errors_matched = 0;  // ICMP errors counted on the pair they quote
  std::uint64_t fragments = 0;            // later fragments attributed to a conversation
  std::uint64_t dropped_total() const;
  void add(const CaptureStats& other);
};

struct PacketInfo;  // a decoded packet (capture_reader.hpp)
namespace capture_detail {
struct PreparedKey;  // internal: keys computed ahead (read_capture's reader thread)
}

// The flow table: compact open addressing, no allocation per packet.
class ConversationTable {
 public:
  using Emit = std::function<void(const Conversation&)>;
  ConversationTable(ConversationOptions options, Emit emit);
  ~ConversationTable();
  ConversationTable(const ConversationTable&) = delete;
  ConversationTable& operator=(const ConversationTable&) = delete;

  // Counts one decoded packet. REQUIRES: packets in (roughly) time order.
  void add(const PacketInfo& packet);
  // The same for consecutive packets, faster: memory is fetched ahead (kBatch at a time).
  static constexpr std::size_t kBatch = 256;
  void add_batch(const PacketInfo* packets, std::size_t n);
  // Internal: the same with each packet's key already computed (keys[i] for
  // packets[i]; ignored for fragments).
  void add_batch(const PacketInfo* packets, const capture_detail::PreparedKey* keys,
                 std::size_t n);
  // Emits every conversation still held (call once, at the end).
  void finish();
  // Ends the conversations that have been silent past their timeout at `now_ns`
  // (nanoseconds since the Unix epoch): live capture calls it with the clock, so a
  // conversation ends on time even when no later packet comes.
  void expire(std::uint64_t now_ns);
  // Each conversation still held as it stands now, marked `open`, without ending
  // it (Zeek's open-connections reports), oldest first.
  void for_each_open(const Emit& report) const;

  std::size_t live() const;             // conversations held now
  std::size_t peak_live() const;        // most held at once
  std::uint64_t emitted() const;        // conversations emitted so far
  std::uint64_t evicted_early() const;  // of those, emitted early because the table was full
  std::uint64_t histories_truncated() const;  // of those, with history_truncated
  std::uint64_t emitted_by_transport(Transport t) const;
  std::uint64_t icmp_errors_matched() const;
  std::uint64_t fragments_matched() const;
  std::uint64_t orphan_fragments() const;
  // Bytes held per live conversation (table slots and records), for the memory goal.
  static std::size_t bytes_per_conversation();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sockscope
