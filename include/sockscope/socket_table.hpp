// sockscope/socket_table.hpp: this host's sockets as the kernel reports them.
//
//   #include <iostream>
//   // Every TCP socket of this network namespace, TIME_WAIT and SYN_RECV included:
//   auto table = SocketTable::read({.transports = {Transport::kTcp}});
//   if (!table) return 1;
//   for (const SocketRecord& s : table->sockets) {
//     std::cout << s.local.to_string() << ' ' << s.remote.to_string()  // 127.0.0.1:43512 ...:80
//               << ' ' << to_string(s.state)                            // ESTAB
//               << ' ' << s.autobound.value_or(false)  // 1: connect() or bind(0) chose the port
//               << ' ' << s.inode << ' ' << s.uid << '\n';  // owners: see process_owners.hpp
//   }
//
//   // Streaming, no storage: a callback per socket (the record lives for the call only).
//   auto source = open_socket_source();  // netlink, else /proc/net
//   if (!source) return 1;
//   std::size_t listening = 0;
//   auto stats = (*source)->dump({}, [&](const SocketRecord& s) { listening += s.listening(); });
//   if (!stats) return 1;
//   std::cout << stats->sockets << " sockets, " << listening << " listening\n";
//
// Sources (the seam, like leveldb's Env): NETLINK_SOCK_DIAG through libmnl (the
// fast path, what `ss` uses), the /proc/net/{tcp,tcp6,udp,udp6} text (fallback
// when netlink is unavailable; no cookie, no autobound or v6only bit), and recorded
// records (tests). All produce the same SocketRecord.
//
// What the kernel shows: listening, connected, TIME_WAIT and request (SYN_RECV)
// sockets; UDP sockets that are bound or connected. A TCP socket that is bound
// but neither listening nor connected is invisible to sock_diag (and to ss).
// TIME_WAIT and request sockets have inode 0 and uid 0: no process owns them.
//
// Filters: SocketQuery::filter carries an ss expression (socket_filter.hpp);
// every source returns exactly the sockets SocketFilter::matches() accepts.
//
// Autobound: sock_diag has no attribute for "the kernel chose the local port";
// its filter bytecode has (INET_DIAG_BC_AUTO: !(sk_userlocks & SOCK_BINDPORT_LOCK)).
// The netlink source therefore sends two requests per (family, protocol) whose
// filters return every socket exactly once with the bit known: side by side on two
// threads, two balanced halves (a port parity XOR the AUTO test, see
// host/diag_bytecode.hpp); one after the other, AUTO and NOT AUTO. TIME_WAIT and
// request sockets report userlocks 0, so their bit is unknown (nullopt), as it is
// for the /proc source. The sink may be called from either thread, never from two
// at once.
//
// V6only: the kernel adds INET_DIAG_SKV6ONLY to every IPv6 socket in LISTEN or
// CLOSE state without being asked (ss prints such a [::] socket as "*"); the
// netlink source reads it there.
//
// Thread-safety: a SocketSource is used by one thread at a time; records are values.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sockscope/endpoint.hpp"
#include "sockscope/error.hpp"
#include "sockscope/transport.hpp"

namespace sockscope {

class SocketFilter;  // socket_filter.hpp

// The kernel's socket states (include/net/tcp_states.h numbering). UDP uses
// kEstablished (connected) and kClose (unconnected, shown "UNCONN").
enum class SocketState : std::uint8_t {
  kEstablished = 1,
  kSynSent = 2,
  kSynRecv = 3,  // also the kernel's NEW_SYN_RECV request sockets
  kFinWait1 = 4,
  kFinWait2 = 5,
  kTimeWait = 6,
  kClose = 7,
  kCloseWait = 8,
  kLastAck = 9,
  kListen = 10,
  kClosing = 11,
};

// ss's names: "ESTAB", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2",
// "TIME-WAIT", "UNCONN", "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING".
std::string_view to_string(SocketState state);
// Case-insensitive: the names above, "established", "syn-recv", "time-wait",
// "listening", "unconnected"/"close", and the same with '_' for '-'.
std::expected<SocketState, Error> parse_socket_state(std::string_view text);

// Bit mask of states, as idiag_states: bit (1 << state).
using StateMask = std::uint32_t;
constexpr StateMask state_bit(SocketState s) { return StateMask{1} << unsigned(s); }
inline constexpr StateMask kAllStates = 0xfff & ~StateMask{1};  // states 1..11

// The kernel's timer of a socket (inet_diag_msg's idiag_timer), as ss -o names it.
enum class SocketTimer : std::uint8_t {
  kNone = 0,
  kRetransmit = 1,  // ss "on"
  kKeepalive = 2,
  kTimeWait = 3,
  kProbe = 4,  // zero-window probe, ss "persist"
};
// "off", "on", "keepalive", "timewait", "persist" (ss's words).
std::string_view to_string(SocketTimer timer);

// TCP's own counters (struct tcp_info, INET_DIAG_INFO), as ss -i shows a part of
// them. A field the kernel's tcp_info is too old to carry is nullopt.
struct TcpInfo {
  std::uint32_t rtt_us = 0;                     // smoothed round-trip time
  std::uint32_t rttvar_us = 0;                  // its mean deviation
  std::uint32_t cwnd = 0;                       // congestion window, segments
  std::uint32_t retransmits = 0;                // segments retransmitted over the connection's life
  std::optional<std::uint64_t> bytes_acked;     // Linux 4.1
  std::optional<std::uint64_t> bytes_received;  // Linux 4.1
  std::optional<std::uint64_t> delivery_rate;   // bytes per second, Linux 4.9
};

// The socket's memory (INET_DIAG_SKMEMINFO: ss -m's skmem), bytes.
struct SocketMemory {
  std::uint32_t rmem_alloc = 0, rcvbuf = 0, wmem_alloc = 0, sndbuf = 0, fwd_alloc = 0;
  std::uint32_t wmem_queued = 0, optmem = 0, backlog = 0, drops = 0;
};

// What the netlink source adds when SocketQuery asks for it (ss -i, -m).
struct SocketDetails {
  std::optional<TcpInfo> tcp;          // TCP sockets other than TIME-WAIT and requests
  std::optional<SocketMemory> memory;  // full sockets
};

struct SocketRecord {
  Transport transport = Transport::kTcp;
  SocketState state = SocketState::kClose;
  // Whether the kernel chose the local port; nullopt when the source cannot tell.
  std::optional<bool> autobound;
  // IPv6 listeners and unconnected UDP sockets: whether IPV6_V6ONLY is set (false:
  // a wildcard [::] also accepts IPv4, "dual-stack"); nullopt for other sockets and
  // when the source cannot tell (/proc/net).
  std::optional<bool> v6only;
  Endpoint local;
  Endpoint remote;           // 0.0.0.0:0 / [::]:0 when unconnected
  std::uint32_t rqueue = 0;  // LISTEN: accept backlog now
  std::uint32_t wqueue = 0;  // LISTEN: maximum backlog (netlink; 0 from /proc)
  std::uint32_t uid = 0;
  std::uint32_t ifindex = 0;               // bound device or IPv6 scope, 0 = none
  std::uint64_t inode = 0;                 // 0: no file (TIME_WAIT, request sockets)
  std::uint64_t cookie = 0;                // the kernel's socket cookie; 0 from /proc
  std::uint64_t netns = 0;                 // inode of the network namespace (/proc/PID/ns/net)
  SocketTimer timer = SocketTimer::kNone;  // the kernel's pending timer (ss -o)
  std::uint8_t timer_retrans = 0;          // retransmissions or probes sent so far
  std::uint32_t timer_expires_ms = 0;      // when the timer fires, from now
  // tcp_info and memory when the query asked for them (shared: records are copied).
  std::shared_ptr<const SocketDetails> details;

  bool listening() const { return state == SocketState::kListen; }
  // A UDP socket with no peer, or a TCP listener: something that waits for others.
  bool unconnected() const { return remote.port == 0 && remote.address.is_unspecified(); }
};

// What to dump. Transports and states go to the kernel as the request's
// protocol and idiag_states; families choose AF_INET/AF_INET6 requests.
struct SocketQuery {
  std::vector<Transport> transports = {Transport::kTcp, Transport::kUdp};
  bool ipv4 = true;
  bool ipv6 = true;
  StateMask states = kAllStates;
  // Learn the autobound bit (netlink: from which of two filtered requests
  // returned the socket).
  bool autobound = true;
  // Ask the kernel for tcp_info (ss -i) and socket memory (ss -m): netlink only,
  // in SocketRecord::details. Off by default: the plain dump stays as fast.
  bool tcp_info = false;
  bool memory = false;
  // Netlink: split a request over two threads from this many sockets of its
  // transport (the kernel's counters in /proc/net/sockstat{,6}): below it, a second
  // thread's start costs more than half the dump (0.3-0.6 ms on an empty table).
  std::size_t split_from_sockets = 2000;
  // ss's filter (socket_filter.hpp): its states and families narrow the ones
  // above; netlink sends its bytecode ahead of its own and rechecks what the
  // kernel cannot decide, the other sources apply SocketFilter::matches().
  std::shared_ptr<const SocketFilter> filter;
};

struct DumpStats {
  std::size_t sockets = 0;
  std::size_t messages = 0;        // netlink messages or /proc lines
  std::size_t split_requests = 0;  // netlink requests split over two threads
  // Parts the kernel did not answer, e.g. "sctp over IPv6: sock_diag has no handler
  // (module sctp_diag not loaded)". The rest of the dump is still delivered.
  std::vector<Error> skipped;
};

// The record is valid only during the call.
using SocketSink = std::function<void(const SocketRecord&)>;

class SocketSource {
 public:
  virtual ~SocketSource() = default;
  // "netlink", "/proc/net" or "recorded": where the records come from.
  virtual std::string_view name() const = 0;
  // Streams every socket matching `query` to `sink`. Errors stop the dump;
  // records already delivered stay delivered.
  virtual std::expected<DumpStats, Error> dump(const SocketQuery& query,
                                               const SocketSink& sink) = 0;
  // The network namespace this source sees (its inode), 0 when unknown.
  virtual std::uint64_t netns() const = 0;
};

// NETLINK_SOCK_DIAG in the caller's network namespace, or through an already
// open NETLINK_SOCK_DIAG socket (adopted and closed by the source; a socket
// opened inside another namespace dumps that namespace, see netns.hpp).
std::expected<std::unique_ptr<SocketSource>, Error> open_netlink_source(int netlink_fd = -1,
                                                                        std::uint64_t netns = 0);
// /proc/net text; `proc_net` is a directory holding tcp, tcp6, udp, udp6.
// The default is the calling thread's namespace.
std::unique_ptr<SocketSource> open_proc_source(std::string proc_net = "/proc/thread-self/net",
                                               std::uint64_t netns = 0);
// Replays records (filtered by the query like the kernel does) for tests.
std::unique_ptr<SocketSource> open_recorded_source(std::vector<SocketRecord> records,
                                                   std::uint64_t netns = 0);
// Netlink, else /proc/net when netlink is refused (the reason is in *why_fallback).
std::expected<std::unique_ptr<SocketSource>, Error> open_socket_source(
    std::string* why_fallback = nullptr);

// The inode of the calling thread's network namespace (0 when unreadable).
std::uint64_t current_netns();

// Every matching socket in memory, for analyses that need the whole table
// (ephemeral-port use, the overview). About 100 bytes per socket.
struct SocketTable {
  std::vector<SocketRecord> sockets;
  std::vector<Error> skipped;  // see DumpStats::skipped
  std::string source;          // the source's name()

  // Reads the calling thread's namespace with open_socket_source(), or `source`.
  static std::expected<SocketTable, Error> read(const SocketQuery& query = {},
                                                SocketSource* source = nullptr);
};

}  // namespace sockscope
