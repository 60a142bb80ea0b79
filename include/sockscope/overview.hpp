// sockscope/overview.hpp: what this host serves and whom it talks to, as data.
//
//   sockscope::OverviewBuilder overview;
//   scan.run([&](const sockscope::HostRow& row) { overview.add(row); });
//   sockscope::HostOverview o = overview.finish();
//   o.served[0];      // a listening port: transport, port, service, addresses, connections by state
//   o.remote[0];      // the remote service this host talks to most: hosts, connections by state
//
// Served ports: every listener's port, and ports with accepted connections (the
// listener may be gone), keyed by transport and port. Remote services: client
// connections by the remote port, keyed by transport and port. A role that is only
// a guess (two ports too alike to tell) is counted apart, never listed as served.
// Thread safety: one builder per thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sockscope/host_scan.hpp"

namespace sockscope {

// Sockets counted by their state, in the kernel's state order.
class StateCounts {
 public:
  void add(SocketState s) { ++counts_[std::size_t(s)]; }
  std::uint64_t of(SocketState s) const { return counts_[std::size_t(s)]; }
  std::uint64_t total() const;
  // (state, count) for every state counted at least once, in state order.
  std::vector<std::pair<SocketState, std::uint64_t>> nonzero() const;

 private:
  std::array<std::uint64_t, 12> counts_{};
};

struct ServedPort {
  Transport transport = Transport::kTcp;
  Port port = 0;
  const Service* service = nullptr;
  bool listening = false;              // a listener exists now
  std::vector<std::string> addresses;  // where it listens, sorted; another namespace's says "in NS"
  StateCounts connections;             // accepted connections by state
};

struct RemoteService {
  Transport transport = Transport::kTcp;
  Port port = 0;  // the remote (server) port
  const Service* service = nullptr;
  std::size_t hosts = 0;  // distinct remote addresses
  StateCounts connections;
};

struct HostOverview {
  std::vector<ServedPort> served;     // listeners (by transport, port), then the rest, busiest first
  std::vector<RemoteService> remote;  // busiest first (ties by transport, port)
  std::size_t sockets = 0, listeners = 0, server_side = 0, client_side = 0, unknown = 0;
  std::size_t namespaces = 0;  // distinct namespaces seen
};

class OverviewBuilder {
 public:
  void add(const HostRow& row);
  HostOverview finish();

 private:
  struct Remote {
    RemoteService service;
    std::set<IpAddress> hosts;
  };
  struct Served {
    ServedPort port;
    std::set<std::string> addresses;
  };
  std::map<std::pair<Transport, Port>, Served> served_;
  std::map<std::pair<Transport, Port>, Remote> remote_;
  std::set<std::uint64_t> namespaces_;
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
