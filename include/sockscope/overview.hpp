// sockscope/overview.hpp: what this host serves, whom it talks to, which programs do
// it, and where it is under pressure, as data.
//
//   #include <iostream>
//   Naming naming(Registry::builtin());
//   HostScan scan({}, naming);  // host_scan.hpp
//   OverviewBuilder overview;
//   if (!scan.run([&](const HostRow& row) { overview.add(row); })) return 1;
//   HostOverview o = overview.finish();
//   for (const ServedPort& p : o.served)  // what this host serves: listening ports, ...
//     std::cout << to_string(p.transport) << ' ' << p.port << ' ' << p.connections.total() << '\n';
//   for (const RemoteService& r : o.remote)  // whom it talks to: remote services, busiest first
//     std::cout << to_string(r.transport) << ' ' << r.port << ' ' << r.hosts << " hosts\n";
//
// Served ports: every listener's port, and ports with accepted connections (the
// listener may be gone), keyed by transport and port. Remote services: client
// connections by the remote port, keyed by transport and port. A role that is only
// a guess (two ports too alike to tell) is counted apart, never listed as served.
// Ephemeral pressure follows ephemeral.hpp's rules per network namespace (each with
// its own sysctls); the builder keeps every socket's ports (about 80 bytes a socket)
// until finish() for it, unless OverviewOptions::ephemeral is off.
// Thread safety: calls to one builder must not overlap (a HostScan's sink never
// does, from whichever dump thread it is called); one builder per scan.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sockscope/ephemeral.hpp"
#include "sockscope/host_scan.hpp"

namespace sockscope {

// Things counted by an enum value (socket states, reasons), in the enum's order.
template <class Enum, std::size_t N>
class CountsBy {
 public:
  void add(Enum e, std::uint64_t n = 1) { counts_[std::size_t(e)] += n; }
  std::uint64_t of(Enum e) const { return counts_[std::size_t(e)]; }
  std::uint64_t total() const {
    std::uint64_t n = 0;
    for (auto c : counts_) n += c;
    return n;
  }
  // (value, count) for every value counted at least once, in the enum's order.
  std::vector<std::pair<Enum, std::uint64_t>> nonzero() const {
    std::vector<std::pair<Enum, std::uint64_t>> out;
    for (std::size_t e = 0; e < N; ++e) {
      if (counts_[e]) out.emplace_back(Enum(e), counts_[e]);
    }
    return out;
  }

 private:
  std::array<std::uint64_t, N> counts_{};
};

// Sockets counted by their state, in the kernel's state order.
using StateCounts = CountsBy<SocketState, 12>;
// Sockets without an owner, by the reason (OwnerMissing::kNone is never counted).
using OwnerMissingCounts = CountsBy<OwnerMissing, 7>;

// A process holding a socket, with its own copy of the command.
struct SocketOwner {
  int pid = 0;
  int fd = 0;
  std::string command;
  friend auto operator<=>(const SocketOwner&, const SocketOwner&) = default;
};

struct ServedPort {
  Transport transport = Transport::kTcp;
  Port port = 0;
  const Service* service = nullptr;
  bool listening = false;              // a listener exists now
  std::vector<std::string> addresses;  // where it listens, sorted; another namespace's says "in NS"
  // Those of `addresses` whose IPv6 wildcard socket accepts IPv4 too (IPV6_V6ONLY off).
  std::vector<std::string> dual_stack;
  StateCounts connections;       // accepted connections by state
  std::size_t client_hosts = 0;  // distinct remote addresses of those connections
  // TCP listeners: connections waiting for accept() and the backlog, summed over the
  // port's listening sockets; full when a socket holds more than its backlog (the
  // kernel's sk_acceptq_is_full: new handshakes are dropped).
  std::uint64_t accept_queue = 0;
  std::uint64_t accept_backlog = 0;
  bool accept_queue_full = false;
  // With owners: who holds the listening sockets (by pid, fd), or why nobody.
  bool owners_known = false;
  std::vector<SocketOwner> processes;
  OwnerMissing owner_missing = OwnerMissing::kNone;

  bool tcp_listener() const { return listening && transport == Transport::kTcp; }
};

struct RemoteHost {
  IpAddress address;
  std::uint64_t connections = 0;
};

struct RemoteService {
  Transport transport = Transport::kTcp;
  Port port = 0;  // the remote (server) port
  const Service* service = nullptr;
  std::size_t hosts = 0;              // distinct remote addresses
  std::vector<RemoteHost> top_hosts;  // the busiest (OverviewOptions::top_hosts), most first
  StateCounts connections;
  // With owners: the local programs and how many of the connections each holds
  // (most first), and the connections nobody visible holds, by reason.
  bool owners_known = false;
  std::vector<ProcessShare> processes;
  OwnerMissingCounts owners_missing;
};

// The fullest destination of ephemeral ports (ephemeral.hpp) over the namespaces read.
struct EphemeralPressure {
  DestinationUsage destination;
  std::vector<ProcessShare> processes;  // who holds its ports (with owners)
  std::string netns;                    // the namespace's label
};

// One namespace's ephemeral ports: its own sysctls and sockets.
struct NamespaceEphemeral {
  NetworkNamespace netns;
  EphemeralReport report;
};

struct OverviewPressure {
  std::optional<EphemeralPressure> ephemeral;  // none: no socket uses a port of the range
  std::uint64_t time_wait = 0;                 // TIME-WAIT sockets
  std::size_t full_accept_queues = 0;          // served ports with accept_queue_full
  // With owners: sockets whose owner could not be read (no-permission, other-netns,
  // no-process); TIME-WAIT and request sockets have none to read and are not counted.
  OwnerMissingCounts owners_missing;
  std::vector<Error> skipped;  // namespaces whose ephemeral sysctls could not be read
  // Every namespace read with TCP or UDP sockets, its whole report (by label);
  // `ephemeral` above is the fullest destination over them.
  std::vector<NamespaceEphemeral> namespaces;
};

struct HostOverview {
  std::vector<ServedPort> served;  // listeners (by transport, port), then the rest, busiest first
  std::vector<RemoteService> remote;  // busiest first (ties by transport, port)
  OverviewPressure pressure;
  std::size_t sockets = 0, listeners = 0, server_side = 0, client_side = 0, unknown = 0;
  std::size_t namespaces = 0;  // distinct namespaces seen
  bool owners_known = false;   // rows came with owners resolved
};

struct OverviewOptions {
  std::size_t top_hosts = 3;  // remote hosts listed per remote service
  bool ephemeral = true;      // find the fullest ephemeral destination
  // A namespace's ephemeral sysctls; empty: EphemeralSettings::read_in.
  std::function<std::expected<EphemeralSettings, Error>(const NetworkNamespace&)> settings;
};

class OverviewBuilder {
 public:
  explicit OverviewBuilder(OverviewOptions options = {}) : options_(std::move(options)) {}
  void add(const HostRow& row);
  // The overview of every row added since the last finish(); `owners` (the scan's,
  // HostScan::owners()) names who holds the fullest destination's ports.
  HostOverview finish(const ProcessOwners* owners = nullptr);

 private:
  struct Served {
    ServedPort port;
    std::set<std::string> addresses, dual_stack;
    std::set<IpAddress> clients;
  };
  struct Remote {
    RemoteService service;
    std::map<IpAddress, std::uint64_t> hosts;
    std::unordered_map<int, std::size_t> process_index;  // pid -> its entry in processes
  };
  struct Namespace {
    NetworkNamespace ns;
    std::vector<PortUse> uses;
  };
  void add_listener(const HostRow& row);
  void add_client(const HostRow& row);
  void note_owners(const HostRow& row);
  void find_ephemeral_pressure(HostOverview& o, const ProcessOwners* owners);

  OverviewOptions options_;
  std::map<std::pair<Transport, Port>, Served> served_;
  std::map<std::pair<Transport, Port>, Remote> remote_;
  std::vector<Namespace> namespaces_;
  std::size_t last_namespace_ = 0;
  HostOverview totals_;
};

// `sockets -s`, like ss -s: the dump's sockets counted by transport, family and
// state, and the kernel's own counters for the namespace (/proc/net/sockstat),
// which also count what a dump does not show (orphans, every family's sockets).
struct TransportCount {
  Transport transport = Transport::kTcp;
  std::uint64_t ipv4 = 0, ipv6 = 0;  // by the socket's family (IPv4-mapped: IPv6)
  StateCounts states;
};
struct KernelSocketCounts {
  std::optional<std::uint64_t> sockets_used;  // every family, unix sockets too
  std::optional<std::uint64_t> tcp_inuse, tcp6_inuse, tcp_orphan, tcp_time_wait, tcp_alloc;
  std::optional<std::uint64_t> tcp_memory_pages, udp_inuse, udp6_inuse, udp_memory_pages;
  std::optional<std::uint64_t> raw_inuse, raw6_inuse, frag_inuse, frag6_inuse;
};
// The calling thread's namespace; a counter the kernel does not report stays nullopt.
KernelSocketCounts read_kernel_socket_counts();

class SocketSummaryBuilder {
 public:
  // A transport listed even when no socket of it comes (zero counts, as ss -s).
  void include(Transport t) { counts_[t].transport = t; }
  void add(const SocketRecord& record);
  // One entry per transport seen, in Transport order.
  std::vector<TransportCount> finish() const;

 private:
  std::map<Transport, TransportCount> counts_;
};

}  // namespace sockscope
