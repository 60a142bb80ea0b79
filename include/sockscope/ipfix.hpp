// sockscope/ipfix.hpp: conversations exported as IPFIX flow records (RFC 7011), to
// a collector over UDP or TCP or into an IPFIX file (RFC 7011 section 10).
//
//   #include <sockscope/capture_input.hpp>
//   #include <iostream>
//   auto exporter = IpfixExporter::open("file:sample.ipfix");  // or udp://127.0.0.1:4739
//   if (!exporter) return 1;
//   ConversationTable table({}, [&](const Conversation& c) { (*exporter)->add(c); });
//   auto input = CaptureInput::open_file("sample.pcapng");
//   if (!input) return 1;
//   CaptureStats stats;
//   (*input)->read(table, stats);
//   table.finish();
//   const IpfixStats done = (*exporter)->finish();  // the last message out
//   std::cout << done.records << " records, " << done.dropped << " dropped\n";
//   // => 78 records, 0 dropped
//
// Each conversation becomes two uniflow records by default: client -> server first,
// then server -> client (a direction that sent no packet is not sent), with the IP
// bytes and packets of that direction; or, with `biflow`, one RFC 5103 record whose
// source is the client and whose reverse counters are the server's. Information
// elements: flowStart/EndMilliseconds (152/153), source/destination IPv4 (8/12) or
// IPv6 (27/28) address, ports (7/11; ICMP: 0 and type * 256 + code), protocol (4),
// tcpControlBits (6, from the history letters), octetDeltaCount (1),
// packetDeltaCount (2), flowEndReason (136), vlanId (58, the outer tag, only in the
// templates of tagged conversations); biflow adds reverseOctetDeltaCount,
// reversePacketDeltaCount and reverseTcpControlBits (enterprise 29305).
//
// Sequence numbers count data records per observation domain (RFC 7011 s.3.1).
// Templates go first on every transport; UDP sends them again every
// `template_refresh` and sizes messages to the path MTU; TCP sends them once per
// connection, reconnects after a failure and holds records in a bounded queue
// meanwhile. UDP and TCP send from a thread of their own behind a bounded queue
// (8 MB): add() waits when it is full, so a paced or slow collector slows the
// caller rather than losing records. Nothing is lost silently: records that
// could not be delivered are counted in IpfixStats::dropped, with the error.
//
// Thread safety: one exporter is used from one thread at a time (its sender
// thread is internal).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sockscope/capture.hpp"
#include "sockscope/error.hpp"
#include "sockscope/socket_pair.hpp"

namespace sockscope {

// flowEndReason (IE 136) values.
enum class IpfixEndReason : std::uint8_t {
  kIdleTimeout = 1,      // silent past the timeout (UDP, ICMP, unterminated TCP)
  kActiveTimeout = 2,    // reported while still open
  kEndOfFlow = 3,        // TCP FIN or RST seen
  kForcedEnd = 4,        // the exporter stopped
  kLackOfResources = 5,  // emitted early: the flow table was full
};

// One data record: a uniflow from pair.first to pair.second, or a biflow whose
// reverse counters are those of pair.second.
struct FlowRecord {
  SocketPair pair;                         // ICMP: second.port is type * 256 + code, first.port 0
  std::uint64_t start_ms = 0, end_ms = 0;  // Unix epoch
  std::uint64_t octets = 0, packets = 0;   // IP bytes (headers included)
  std::uint16_t tcp_flags = 0;
  IpfixEndReason end_reason = IpfixEndReason::kIdleTimeout;
  std::uint16_t vlan = 0;                                 // vlanId; 0 = untagged
  std::uint64_t reverse_octets = 0, reverse_packets = 0;  // biflow only
  std::uint16_t reverse_tcp_flags = 0;
  friend bool operator==(const FlowRecord&, const FlowRecord&) = default;
};

// The records of one conversation into `out`: client -> server, then server ->
// client (only the directions that sent packets), or one biflow. Returns how many.
std::size_t flow_records(const Conversation& c, bool biflow, FlowRecord out[2]);

struct ConnectionEvent;  // connection_log.hpp
// Whether a connection log event ends a flow: a close of a socket with a peer (not
// a listener's, not an unconnected UDP socket's).
bool has_flow(const ConnectionEvent& e);
// A connection log's close (has_flow()): client first; a TCP socket's segments from
// tcp_info as packets, octets its payload bytes plus 40 (IPv4) or 60 (IPv6) bytes
// of headers a segment (the least they carried: TCP options are not counted). A
// close without counters (UDP: the kernel keeps none; a lost close, flowEndReason
// lackOfResources; an abort that cleared them) is one record with zero counters.
std::size_t flow_records(const ConnectionEvent& e, bool biflow, FlowRecord out[2]);

struct IpfixOptions {
  std::uint32_t domain = 0;  // observation domain id
  bool biflow = false;       // RFC 5103 biflow records instead of two uniflows
  // Largest message in bytes; 0: the transport's (UDP: path MTU less the IP and UDP
  // headers, at most 8972, a jumbo frame's, as collectors read about 10 kB of a
  // datagram; TCP and file: 65535). At least 256.
  std::size_t max_message = 0;
  // UDP: the templates again when this long has passed since they were last sent.
  std::chrono::milliseconds template_refresh{std::chrono::minutes(10)};
  // UDP has no flow control: messages are paced to this many bytes a second so that a
  // collector's socket buffer does not overflow (0: unpaced). Time a sender waited
  // for a core is made up, in bursts of at most 64 kB or 10 ms at the rate.
  std::uint64_t udp_bytes_per_second = 20'000'000;
  // TCP: records held while the collector is away (the oldest are dropped beyond),
  // how long between connection attempts, and how long finish() keeps trying.
  std::size_t queue_records = 1'000'000;
  std::chrono::milliseconds reconnect_interval{1000};
  std::chrono::milliseconds finish_timeout{5000};
  // Nanoseconds since the Unix epoch for export times and the refresh; the system
  // clock when empty (a seam for tests).
  std::function<std::uint64_t()> clock;
};

// Builds messages: templates, then data sets of as many records as fit in
// max_message; each complete message goes to `send` with its count of records.
// Standard library only (fuzzed).
class IpfixEncoder {
 public:
  using Send = std::function<void(std::span<const std::uint8_t> message, std::size_t records)>;
  // REQUIRES: options.max_message >= 256 (0 is taken as 65535).
  IpfixEncoder(IpfixOptions options, Send send);
  void add(const FlowRecord& record);
  // Sends the message being filled, if it holds records.
  void flush();
  // A message of the templates alone, numbered `sequence` (a new TCP connection
  // starts with one numbered as its first data message).
  std::vector<std::uint8_t> templates_message(std::uint32_t sequence) const;
  // Sends templates_message(sequence()) after flushing.
  void send_templates();
  std::uint32_t sequence() const { return sequence_; }  // data records sent so far
  std::uint64_t now_ns() const;

 private:
  void begin_message();
  void finish_message();
  IpfixOptions options_;
  Send send_;
  // The message being filled: its first `used_` bytes (0: none begun). Sized once to
  // max_message, so a record is written in place, not appended.
  std::vector<std::uint8_t> message_;
  std::size_t used_ = 0;
  std::size_t set_start_ = 0;
  std::uint16_t set_id_ = 0;
  std::size_t records_ = 0;
  std::uint32_t sequence_ = 0;
};

// Where records go: udp://HOST:PORT, tcp://HOST:PORT (HOST an IPv4 address, [IPv6]
// or localhost) or file:PATH.
struct IpfixDestination {
  enum class Kind : std::uint8_t { kUdp, kTcp, kFile } kind = Kind::kUdp;
  Endpoint collector;  // kUdp, kTcp
  std::string path;    // kFile
  std::string to_string() const;
};
std::expected<IpfixDestination, Error> parse_ipfix_destination(std::string_view text);

struct IpfixStats {
  std::uint64_t records = 0;   // data records delivered to the transport
  std::uint64_t messages = 0;  // messages sent (templates included)
  std::uint64_t dropped = 0;   // data records that could not be delivered
  std::uint64_t reconnects = 0;
  std::optional<Error> error;  // the first delivery failure
};

class IpfixExporter {
 public:
  // Opens the destination (UDP: connects the socket; TCP: tries to connect, and
  // keeps trying later on failure; file: creates the file).
  static std::expected<std::unique_ptr<IpfixExporter>, Error> open(std::string_view destination,
                                                                   IpfixOptions options = {});
  virtual ~IpfixExporter() = default;
  // The conversation's records (flow_records()).
  void add(const Conversation& c);
  // A connection log close's records (flow_records()).
  void add(const ConnectionEvent& e);
  virtual void add(const FlowRecord& record) = 0;
  // Sends the records held in the message being filled (a live source calls it so
  // that a quiet period does not hold records back).
  virtual void flush() = 0;
  // Sends what is held (TCP: waits up to finish_timeout for the collector) and
  // closes; records still held are counted as dropped.
  virtual IpfixStats finish() = 0;
  // The counters; final once finish() has returned (UDP and TCP send from a thread
  // of their own until then).
  virtual const IpfixStats& stats() const = 0;
  const IpfixOptions& options() const { return options_; }

 protected:
  explicit IpfixExporter(IpfixOptions options) : options_(std::move(options)) {}
  IpfixOptions options_;
};

}  // namespace sockscope
