// sockscope/overview.hpp: what this host serves and whom it talks to, as data.
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
// Thread safety: one builder per thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
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

}  // namespace sockscope
