// sockscope/connection_log.hpp: every connection of this host as a stream of
// events, with what each carried, its owner and its Community ID; loss counted.
//
//   #include <iostream>
//   Registry registry;
//   Naming naming(registry);
//   ConnectionLogOptions options{.duration = std::chrono::milliseconds(300)};  // or stop()
//   if (auto range = EphemeralRange::read_host()) options.host_ephemeral = range->range;
//   ConnectionLog log(options, naming);
//   auto summary = log.run([](const ConnectionEvent& e) {
//     std::cout << to_string(e.kind)                                  // close
//               << ' ' << e.record.local.to_string()                  // 127.0.0.1:43512
//               << ' ' << to_string(e.role);                          // client
//     if (e.counters) std::cout << ' ' << e.counters->sent_bytes;     // payload it sent
//     for (const ConnectionOwner& o : e.owners) std::cout << ' ' << o.pid << '/' << o.command;
//     if (e.owners.empty()) std::cout << " (" << to_string(e.owner_missing) << ')';
//     std::cout << '\n';
//   });
//   if (!summary) {  // nothing could be watched
//     std::cerr << summary.error().what() << '\n';
//     return 1;
//   }
//   std::cout << "events lost: " << summary->events_lost << '\n';  // 0: nothing was missed
//
// Sources, layered (DESIGN.md, Host):
//  1. sock_diag destroy notifications, joined before the first dump, so no socket
//     falls between the snapshot and the stream; keyed by the socket cookie. They
//     carry the final tcp_info (bytes and segments each way, retransmits) and
//     work unprivileged.
//  2. Opens: a re-dump every `redump_interval`, diffed by cookie against the live
//     table; and, as root on kernels with BTF, the tracepoint
//     sock:inet_sock_set_state (tp_btf, ring buffer; host/state_tracer.hpp),
//     which sees every TCP transition as it happens and the pid at connect().
//  3. Owners: a cookie -> process cache, filled by the owner scan
//     (process_owners.hpp) whenever a dump finds sockets it does not know;
//     accepted connections inherit their listener's owner when their own was
//     not seen (owner_evidence listener); a connection that closed before any
//     scan or trace saw it says so (closed-before-scan).
// Loss is never silent: when the kernel drops destroy messages (queue full) or
// the ring overflows, the drops are counted (events_lost), the table is dumped
// again at once and every connection the diff proves gone is emitted as a
// close marked `lost` (no counters).
// Thread safety: run() on one thread; stop() from any thread or a signal handler.
#pragma once

#include <atomic>
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

#include "sockscope/error.hpp"
#include "sockscope/host.hpp"
#include "sockscope/naming.hpp"
#include "sockscope/netns.hpp"
#include "sockscope/process_owners.hpp"
#include "sockscope/socket_table.hpp"

namespace sockscope {

enum class ConnectionEventKind : std::uint8_t { kOpen, kClose, kListen, kUnlisten };
// "open", "close", "listen", "unlisten".
std::string_view to_string(ConnectionEventKind kind);

// How an event's owner is known.
enum class OwnerEvidence : std::uint8_t {
  kNone,      // no owner
  kScan,      // the owner scan saw its descriptor
  kConnect,   // the state tracer saw the process that called connect() or listen()
  kListener,  // an accepted connection: its listener's owner
};
// "none", "scan", "connect", "listener".
std::string_view to_string(OwnerEvidence evidence);

struct ConnectionOwner {
  int pid = 0;
  std::uint32_t uid = 0;
  std::string_view command;  // /proc/PID/comm, or the tracer's comm
  std::string_view cmdline;  // /proc/PID/cmdline, arguments joined by spaces ("" unknown)
};

// What a TCP connection carried, from the kernel's final tcp_info (this socket's view).
struct ConnectionCounters {
  std::uint64_t sent_bytes = 0;      // payload sent and acknowledged
  std::uint64_t received_bytes = 0;  // payload received in order
  std::uint32_t sent_segments = 0;   // tcpi_segs_out (handshake and ACKs included)
  std::uint32_t received_segments = 0;
  std::uint32_t retransmits = 0;  // tcpi_total_retrans
};

struct ConnectionEvent {
  ConnectionEventKind kind = ConnectionEventKind::kOpen;
  std::int64_t time_ns = 0;  // when sockscope learned it (Unix epoch)
  // Transport, endpoints, cookie, netns; on close `state` is the last state seen
  // before the end (ESTAB: reset or closed from there; TIME-WAIT, LAST-ACK, ...).
  SocketRecord record;
  LocalRole role = LocalRole::kUnknown;
  Evidence evidence = Evidence::kLowerPortGuess;
  const Service* service = nullptr;
  const NetworkNamespace* netns = nullptr;
  std::span<const ConnectionOwner> owners;
  OwnerMissing owner_missing = OwnerMissing::kNone;  // when owners is empty
  OwnerEvidence owner_evidence = OwnerEvidence::kNone;
  // close: how long it lived; nullopt when it opened before the log started or
  // was never seen open.
  std::optional<std::int64_t> duration_ns;
  std::optional<ConnectionCounters> counters;  // close of a TCP socket, unless lost
  bool lost = false;  // close: proven by a re-dump after lost messages, no counters
  // close: an abort (SO_LINGER 0) cleared the kernel's counters before the end
  // and the tracer was not there to take them at CLOSE: no counters.
  bool counters_cleared = false;
};

struct ConnectionLogOptions {
  bool tcp = true, udp = true, ipv4 = true, ipv6 = true;
  bool all_namespaces = false;  // every namespace, each with its own listener
  bool owners = true;
  OwnerSource owner_source = OwnerSource::kAuto;
  // The state tracer: kAuto uses it where root and the kernel allow it.
  enum class Tracer : std::uint8_t { kAuto, kOn, kOff } tracer = Tracer::kAuto;
  // The tracer's ring (a power of two from 4 KiB; rounded up): resident memory,
  // mapped twice, against the burst it absorbs between two reads. Records a full
  // ring loses are counted and recovered by a re-dump.
  std::size_t tracer_ring_bytes = std::size_t{8} << 20;
  std::chrono::milliseconds redump_interval{500};
  int receive_buffer = 64 << 20;  // bytes of destroy queue asked for
  // Emit the sockets already open at start as open/listen events (flagged by
  // time_ns == start); otherwise they are the baseline the stream starts from.
  bool initial_events = false;
  std::optional<PortRange> host_ephemeral;  // for roles
  // Stop after this many events (0: no limit) or this long (zero: no limit).
  std::size_t max_events = 0;
  std::chrono::milliseconds duration{0};
};

struct ConnectionLogSummary {
  std::size_t opens = 0, closes = 0, listens = 0, unlistens = 0;
  std::size_t events_lost = 0;       // messages the kernel dropped + ring records lost
  std::size_t closes_recovered = 0;  // closes emitted from a re-dump (lost = true)
  std::size_t redumps = 0, owner_scans = 0;
  // Events without owners by the reason (index: OwnerMissing).
  std::size_t owners_missing[8] = {};
  std::size_t initial_sockets = 0;  // the baseline
  std::string tracer;               // "tracepoint" or why not
  bool receive_buffer_forced = false;
  int receive_buffer = 0;
};

class ConnectionLog {
 public:
  ConnectionLog(ConnectionLogOptions options, const Naming& naming, ReportFn report = {});
  ~ConnectionLog();
  ConnectionLog(const ConnectionLog&) = delete;
  ConnectionLog& operator=(const ConnectionLog&) = delete;

  using Sink = std::function<void(const ConnectionEvent&)>;
  // Subscribes, dumps the baseline, then streams events until stop(), the
  // options' count or duration. `ready` runs once the baseline is in place (the
  // point from which nothing is missed); `batch_done` after each round that
  // emitted events, when the kernel's queues are empty (a moment to flush
  // output). An error when nothing can be watched.
  std::expected<ConnectionLogSummary, Error> run(const Sink& sink,
                                                 const std::function<void()>& ready = {},
                                                 const std::function<void()>& batch_done = {});
  // Ends run() within a few milliseconds; async-signal-safe.
  void stop() { stop_.store(true, std::memory_order_relaxed); }
  // The current summary (events so far); during run() from the sink only.
  const ConnectionLogSummary& summary() const;

 private:
  struct State;  // connection_log.cpp
  std::unique_ptr<State> state_;
  std::atomic<bool> stop_{false};
};

}  // namespace sockscope
