#include "sockscope/overview.hpp"

#include <algorithm>
#include <string>

#include "host/sockstat.hpp"

namespace sockscope {

std::uint64_t StateCounts::total() const {
  std::uint64_t n = 0;
  for (auto c : counts_) n += c;
  return n;
}

std::vector<std::pair<SocketState, std::uint64_t>> StateCounts::nonzero() const {
  std::vector<std::pair<SocketState, std::uint64_t>> out;
  for (std::size_t s = 0; s < counts_.size(); ++s) {
    if (counts_[s]) out.emplace_back(SocketState(s), counts_[s]);
  }
  return out;
}

void OverviewBuilder::add(const HostRow& row) {
  const HostSocket& s = row.socket;
  const SocketRecord& r = s.record;
  ++totals_.sockets;
  namespaces_.insert(row.netns.inode);
  switch (s.role) {
    case LocalRole::kListener: {
      ++totals_.listeners;
      Served& v = served_[{r.transport, r.local.port}];
      v.port.service = row.service;
      v.port.listening = true;
      // A listener of another namespace says which one.
      v.addresses.insert(row.netns.current
                             ? r.local.address.to_string()
                             : r.local.address.to_string() + " in " + row.netns.label());
      return;
    }
    case LocalRole::kServer: {
      if (is_guess(s.evidence)) break;  // no evidence of serving: counted apart
      ++totals_.server_side;
      Served& v = served_[{r.transport, r.local.port}];
      v.port.service = row.service;
      v.port.connections.add(r.state);
      return;
    }
    case LocalRole::kClient: {
      if (is_guess(s.evidence)) break;
      ++totals_.client_side;
      Remote& v = remote_[{r.transport, r.remote.port}];
      v.service.service = row.service;
      v.hosts.insert(r.remote.address);
      v.service.connections.add(r.state);
      return;
    }
    case LocalRole::kUnknown: break;
  }
  ++totals_.unknown;
}

HostOverview OverviewBuilder::finish() {
  HostOverview o = totals_;
  o.namespaces = namespaces_.size();
  for (auto& [key, v] : served_) {
    v.port.transport = key.first;
    v.port.port = key.second;
    v.port.addresses.assign(v.addresses.begin(), v.addresses.end());
    o.served.push_back(std::move(v.port));
  }
  std::stable_sort(o.served.begin(), o.served.end(), [](const ServedPort& a, const ServedPort& b) {
    if (a.listening != b.listening) return a.listening;
    return !a.listening && a.connections.total() > b.connections.total();
  });
  for (auto& [key, v] : remote_) {
    v.service.transport = key.first;
    v.service.port = key.second;
    v.service.hosts = v.hosts.size();
    o.remote.push_back(v.service);
  }
  std::stable_sort(o.remote.begin(), o.remote.end(),
                   [](const RemoteService& a, const RemoteService& b) {
                     return a.connections.total() > b.connections.total();
                   });
  served_.clear();
  remote_.clear();
  namespaces_.clear();
  totals_ = {};
  return o;
}

void SocketSummaryBuilder::add(const SocketRecord& r) {
  TransportCount& c = counts_[r.transport];
  ++(r.local.address.is_v4() ? c.ipv4 : c.ipv6);
  c.states.add(r.state);
}

std::vector<TransportCount> SocketSummaryBuilder::finish() const {
  std::vector<TransportCount> out;
  for (const auto& [t, c] : counts_) {
    out.push_back(c);
    out.back().transport = t;
  }
  return out;
}

KernelSocketCounts read_kernel_socket_counts() {
  using host_detail::sockstat_field;
  const std::string v4 = host_detail::read_small("/proc/net/sockstat");
  const std::string v6 = host_detail::read_small("/proc/net/sockstat6");
  KernelSocketCounts k;
  k.sockets_used = sockstat_field(v4, "sockets:", "used ");
  k.tcp_inuse = sockstat_field(v4, "TCP:", " inuse ");
  k.tcp_orphan = sockstat_field(v4, "TCP:", " orphan ");
  k.tcp_time_wait = sockstat_field(v4, "TCP:", " tw ");
  k.tcp_alloc = sockstat_field(v4, "TCP:", " alloc ");
  k.tcp_memory_pages = sockstat_field(v4, "TCP:", " mem ");
  k.udp_inuse = sockstat_field(v4, "UDP:", " inuse ");
  k.udp_memory_pages = sockstat_field(v4, "UDP:", " mem ");
  k.raw_inuse = sockstat_field(v4, "RAW:", " inuse ");
  k.frag_inuse = sockstat_field(v4, "FRAG:", " inuse ");
  k.tcp6_inuse = sockstat_field(v6, "TCP6:", " inuse ");
  k.udp6_inuse = sockstat_field(v6, "UDP6:", " inuse ");
  k.raw6_inuse = sockstat_field(v6, "RAW6:", " inuse ");
  k.frag6_inuse = sockstat_field(v6, "FRAG6:", " inuse ");
  return k;
}

}  // namespace sockscope
