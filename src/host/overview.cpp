// OverviewBuilder: one pass over the scan's rows into served ports, remote services
// and the pressure counts; the ephemeral analysis per namespace at finish().
#include "sockscope/overview.hpp"

#include <algorithm>
#include <string>

#include "host/sockstat.hpp"

namespace sockscope {
namespace {

// Whether a socket's missing owner is one that could not be read (rather than one
// that does not exist: TIME-WAIT and request sockets have no file).
bool unreadable(OwnerMissing why) {
  return why == OwnerMissing::kNoPermission || why == OwnerMissing::kOtherNetns ||
         why == OwnerMissing::kNoProcess;
}

void add_share(std::vector<ProcessShare>& shares, std::unordered_map<int, std::size_t>& index,
               const ProcessOwner& o) {
  auto [it, added] = index.try_emplace(o.pid, shares.size());
  if (added) shares.push_back(ProcessShare{o.pid, std::string(o.command), 0});
  ++shares[it->second].sockets;
}

void sort_shares(std::vector<ProcessShare>& shares) {
  std::sort(shares.begin(), shares.end(), [](const ProcessShare& a, const ProcessShare& b) {
    return a.sockets != b.sockets ? a.sockets > b.sockets : a.pid < b.pid;
  });
}

}  // namespace

void OverviewBuilder::note_owners(const HostRow& row) {
  if (!row.owners_known) return;
  totals_.owners_known = true;
  if (row.owners.empty() && unreadable(row.owner_missing)) {
    totals_.pressure.owners_missing.add(row.owner_missing);
  }
}

void OverviewBuilder::add_listener(const HostRow& row) {
  const SocketRecord& r = row.socket.record;
  ++totals_.listeners;
  Served& v = served_[{r.transport, r.local.port}];
  v.port.service = row.service;
  v.port.listening = true;
  // A listener of another namespace says which one.
  std::string address = r.local.address.to_string();
  if (!row.netns.current) address += " in " + row.netns.label();
  if (r.local.address.is_v6() && r.local.address.is_unspecified() && r.v6only == false) {
    v.dual_stack.insert(address);
  }
  v.addresses.insert(std::move(address));
  if (r.transport == Transport::kTcp) {
    v.port.accept_queue += r.rqueue;
    v.port.accept_backlog += r.wqueue;
    // /proc/net gives no backlog (0, and no cookie): a queue there is not known to be full.
    const bool backlog_known = r.wqueue > 0 || r.cookie != 0;
    if (backlog_known && r.rqueue > r.wqueue) v.port.accept_queue_full = true;
  }
  if (!row.owners_known) return;
  v.port.owners_known = true;
  for (const ProcessOwner& o : row.owners) {
    v.port.processes.push_back(SocketOwner{o.pid, o.fd, std::string(o.command)});
  }
  if (row.owners.empty() && v.port.owner_missing == OwnerMissing::kNone) {
    v.port.owner_missing = row.owner_missing;
  }
}

void OverviewBuilder::add_client(const HostRow& row) {
  const SocketRecord& r = row.socket.record;
  ++totals_.client_side;
  // A client without a peer (UDP that sends with sendto()) talks to no one service.
  if (r.unconnected()) return;
  Remote& v = remote_[{r.transport, r.remote.port}];
  v.service.service = row.service;
  ++v.hosts[r.remote.address];
  v.service.connections.add(r.state);
  if (!row.owners_known) return;
  v.service.owners_known = true;
  for (const ProcessOwner& o : row.owners) add_share(v.service.processes, v.process_index, o);
  if (row.owners.empty()) v.service.owners_missing.add(row.owner_missing);
}

void OverviewBuilder::add(const HostRow& row) {
  const HostSocket& s = row.socket;
  const SocketRecord& r = s.record;
  ++totals_.sockets;
  if (last_namespace_ >= namespaces_.size() ||
      namespaces_[last_namespace_].ns.inode != row.netns.inode) {
    auto it = std::find_if(namespaces_.begin(), namespaces_.end(),
                           [&](const Namespace& n) { return n.ns.inode == row.netns.inode; });
    if (it == namespaces_.end()) it = namespaces_.insert(namespaces_.end(), {row.netns, {}});
    last_namespace_ = std::size_t(it - namespaces_.begin());
  }
  if (options_.ephemeral) namespaces_[last_namespace_].uses.push_back(PortUse::of(r));
  if (r.state == SocketState::kTimeWait) ++totals_.pressure.time_wait;
  note_owners(row);
  switch (s.role) {
    case LocalRole::kListener: return add_listener(row);
    case LocalRole::kServer: {
      if (is_guess(s.evidence)) break;  // no evidence of serving: counted apart
      ++totals_.server_side;
      Served& v = served_[{r.transport, r.local.port}];
      v.port.service = row.service;
      v.port.connections.add(r.state);
      v.clients.insert(r.remote.address);
      return;
    }
    case LocalRole::kClient: {
      if (is_guess(s.evidence)) break;
      return add_client(row);
    }
    case LocalRole::kUnknown: break;
  }
  ++totals_.unknown;
}

void OverviewBuilder::find_ephemeral_pressure(HostOverview& o, const ProcessOwners* owners) {
  const bool several = namespaces_.size() > 1;
  for (Namespace& n : namespaces_) {
    if (n.uses.empty()) continue;
    auto settings = options_.settings ? options_.settings(n.ns) : EphemeralSettings::read_in(n.ns);
    if (!settings) {
      o.pressure.skipped.push_back(settings.error());
      continue;
    }
    EphemeralReport& report =
        o.pressure.namespaces.emplace_back(n.ns, analyze_ephemeral(n.uses, *settings, 1)).report;
    if (report.destinations.empty()) continue;
    DestinationUsage d = report.destinations.front();
    auto& best = o.pressure.ephemeral;
    if (best && (best->destination.utilization() > d.utilization() ||
                 (best->destination.utilization() == d.utilization() &&
                  best->destination.used >= d.used))) {
      continue;
    }
    best = EphemeralPressure{std::move(d), {}, several ? n.ns.label() : std::string()};
  }
  std::sort(o.pressure.namespaces.begin(), o.pressure.namespaces.end(),
            [](const auto& a, const auto& b) { return a.netns.label() < b.netns.label(); });
  if (o.pressure.ephemeral && owners) {
    o.pressure.ephemeral->processes = processes_of(o.pressure.ephemeral->destination, *owners);
  }
}

HostOverview OverviewBuilder::finish(const ProcessOwners* owners) {
  HostOverview o = std::move(totals_);
  o.namespaces = namespaces_.size();
  for (auto& [key, v] : served_) {
    ServedPort& p = v.port;
    p.transport = key.first;
    p.port = key.second;
    p.addresses.assign(v.addresses.begin(), v.addresses.end());
    p.dual_stack.assign(v.dual_stack.begin(), v.dual_stack.end());
    p.client_hosts = v.clients.size();
    std::sort(p.processes.begin(), p.processes.end());
    p.processes.erase(std::unique(p.processes.begin(), p.processes.end()), p.processes.end());
    if (!p.processes.empty()) p.owner_missing = OwnerMissing::kNone;
    o.pressure.full_accept_queues += p.accept_queue_full;
    o.served.push_back(std::move(p));
  }
  std::stable_sort(o.served.begin(), o.served.end(), [](const ServedPort& a, const ServedPort& b) {
    if (a.listening != b.listening) return a.listening;
    return !a.listening && a.connections.total() > b.connections.total();
  });
  for (auto& [key, v] : remote_) {
    RemoteService& r = v.service;
    r.transport = key.first;
    r.port = key.second;
    r.hosts = v.hosts.size();
    for (const auto& [address, n] : v.hosts) r.top_hosts.push_back({address, n});
    // Most connections first; the map's order (by address) breaks ties.
    std::stable_sort(
        r.top_hosts.begin(), r.top_hosts.end(),
        [](const RemoteHost& a, const RemoteHost& b) { return a.connections > b.connections; });
    if (r.top_hosts.size() > options_.top_hosts) r.top_hosts.resize(options_.top_hosts);
    sort_shares(r.processes);
    o.remote.push_back(std::move(r));
  }
  std::stable_sort(o.remote.begin(), o.remote.end(),
                   [](const RemoteService& a, const RemoteService& b) {
                     return a.connections.total() > b.connections.total();
                   });
  if (options_.ephemeral) find_ephemeral_pressure(o, owners);
  served_.clear();
  remote_.clear();
  namespaces_.clear();
  last_namespace_ = 0;
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
