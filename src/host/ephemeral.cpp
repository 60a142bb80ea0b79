// Ephemeral-port accounting per destination, following net/ipv4/inet_hashtables.c
// (__inet_hash_connect) and inet_connection_sock.c (inet_csk_find_open_port).
#include "sockscope/ephemeral.hpp"

#include <algorithm>
#include <unordered_map>

#include "core/text.hpp"
#include "host/netns_enter.hpp"
#include "sockscope/socket_pair.hpp"

namespace sockscope {
namespace {

struct DestinationKey {
  Transport transport;
  IpAddress local;
  Endpoint remote;
  friend bool operator==(const DestinationKey&, const DestinationKey&) = default;
};

struct DestinationKeyHash {
  std::size_t operator()(const DestinationKey& k) const {
    SocketPair p{k.transport, {k.local, 0}, k.remote};
    return p.hash();
  }
};

// A sysctl's value without its trailing newline.
std::expected<std::string, Error> read_sysctl(const std::string& path) {
  auto text = text::read_file(path);
  if (!text) return text;
  while (!text->empty() && (text->back() == '\n' || text->back() == ' ')) text->pop_back();
  return text;
}

}  // namespace

std::uint32_t EphemeralSettings::usable() const {
  std::uint32_t n = 0;
  for (std::uint32_t p = range.first; p <= range.last; ++p) n += !reserved[p];
  return n;
}

std::expected<std::bitset<65536>, Error> EphemeralSettings::parse_port_list(std::string_view text) {
  std::bitset<65536> ports;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(start, comma - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\n')) item.remove_suffix(1);
    if (!item.empty()) {
      auto r = PortRange::parse(item, start);
      if (!r) return std::unexpected(r.error());
      for (std::uint32_t p = r->first; p <= r->last; ++p) ports.set(p);
    }
    start = comma + 1;
  }
  return ports;
}

std::expected<EphemeralSettings, Error> EphemeralSettings::read(const std::string& proc_sys_ipv4) {
  EphemeralSettings s;
  auto range = EphemeralRange::read_host(proc_sys_ipv4 + "/ip_local_port_range");
  if (!range) return std::unexpected(range.error());
  s.range = range->range;
  if (auto reserved = read_sysctl(proc_sys_ipv4 + "/ip_local_reserved_ports")) {
    auto ports = parse_port_list(*reserved);
    if (!ports) {
      Error e = ports.error();
      e.message = proc_sys_ipv4 + "/ip_local_reserved_ports: " + e.message;
      return std::unexpected(e);
    }
    s.reserved = *ports;
    s.reserved_text = *reserved;
  }
  if (auto reuse = read_sysctl(proc_sys_ipv4 + "/tcp_tw_reuse")) {
    s.tcp_tw_reuse = std::atoi(reuse->c_str());
  }
  return s;
}

namespace {

// `work()` run inside `ns`, its error named by the namespace.
template <class T, class Work>
std::expected<T, Error> run_in(const NetworkNamespace& ns, Work&& work) {
  std::expected<T, Error> result;
  auto entered = host_detail::in_namespace(ns, [&] { result = work(); });
  if (!entered) return std::unexpected(entered.error());
  if (!result) {
    Error e = result.error();
    e.message = "network namespace " + ns.label() + ": " + e.message;
    return std::unexpected(e);
  }
  return result;
}

}  // namespace

std::expected<EphemeralSettings, Error> EphemeralSettings::read_in(const NetworkNamespace& ns) {
  return run_in<EphemeralSettings>(ns, [] { return read(); });
}

namespace {

// One analysis: the ports bind() holds, then usage per destination.
class Analysis {
 public:
  Analysis(std::span<const PortUse> sockets, const EphemeralSettings& settings)
      : sockets_(sockets), settings_(settings) {
    report_.settings = settings;
  }

  EphemeralReport run(std::size_t keep_inodes) {
    find_held_ports();
    count_tcp();
    count_udp();
    std::sort(report_.destinations.begin(), report_.destinations.end(), fuller);
    if (keep_inodes > 0) keep_inodes_of_fullest(keep_inodes);
    return std::move(report_);
  }

 private:
  bool in_pool(Port p) const { return settings_.range.contains(p) && !settings_.reserved[p]; }

  // Ports owned by explicit bind(): listeners, and connected sockets whose port
  // the kernel did not choose (bind-before-connect, accepted children).
  void find_held_ports() {
    std::bitset<65536> listener_ports, any_tcp;
    for (const PortUse& s : sockets_) {
      if (s.transport == Transport::kTcp && s.listening) listener_ports.set(s.local.port);
    }
    for (const PortUse& s : sockets_) {
      if (s.transport != Transport::kTcp) continue;
      any_tcp.set(s.local.port);
      if (s.listening) {
        held_.set(s.local.port);
      } else if (!s.time_wait) {
        if (!s.autobound) report_.autobound_known = false;
        const bool explicit_port = s.autobound ? !*s.autobound : listener_ports[s.local.port];
        if (explicit_port) held_.set(s.local.port);
      }
    }
    const PortRange range = settings_.range;
    for (std::uint32_t p = range.first; p <= range.last; ++p) {
      if (!settings_.reserved[p]) {
        report_.bind_held += held_[p];
        report_.bind_pool.used += any_tcp[p];
      }
    }
    report_.bind_pool.capacity = settings_.usable();
  }

  DestinationUsage& entry(const DestinationKey& key) {
    auto [it, inserted] = index_.try_emplace(key, report_.destinations.size());
    if (inserted) {
      DestinationUsage d;
      d.transport = key.transport;
      d.local_address = key.local;
      d.remote = key.remote;
      const std::uint32_t usable = settings_.usable();
      d.capacity = key.transport == Transport::kTcp ? usable - report_.bind_held : usable;
      report_.destinations.push_back(std::move(d));
    }
    return report_.destinations[it->second];
  }

  // TCP: one socket pair per local port toward a destination (ehash keeps pairs
  // unique), so counting sockets counts ports.
  void count_tcp() {
    for (const PortUse& s : sockets_) {
      if (s.transport != Transport::kTcp || s.listening) continue;
      if (!in_pool(s.local.port) || held_[s.local.port]) continue;
      DestinationUsage& d = entry({Transport::kTcp, s.local.address, s.remote});
      ++d.used;
      d.time_wait += s.time_wait;
    }
  }

  // UDP: a port is taken for a local address when a socket holds it on that
  // address or on the wildcard address of the same family.
  void count_udp() {
    struct UdpPorts {
      std::bitset<65536> ports;
    };
    std::unordered_map<DestinationKey, UdpPorts, DestinationKeyHash> udp;
    std::bitset<65536> wildcard_v4, wildcard_v6;
    for (const PortUse& s : sockets_) {
      if (s.transport != Transport::kUdp || !in_pool(s.local.port)) continue;
      if (s.local.address.is_unspecified()) {
        (s.local.address.is_v4() ? wildcard_v4 : wildcard_v6).set(s.local.port);
      }
      udp[{Transport::kUdp, s.local.address, {}}].ports.set(s.local.port);
    }
    for (auto& [key, ports] : udp) {
      const auto& wildcard = key.local.is_v4() ? wildcard_v4 : wildcard_v6;
      entry(key).used = std::uint32_t((ports.ports | wildcard).count());
    }
  }

  static bool fuller(const DestinationUsage& a, const DestinationUsage& b) {
    const double ua = a.utilization(), ub = b.utilization();
    if (ua != ub) return ua > ub;
    if (a.used != b.used) return a.used > b.used;
    if (a.transport != b.transport) return a.transport < b.transport;
    if (a.local_address != b.local_address) return a.local_address < b.local_address;
    return a.remote < b.remote;
  }

  // The sockets behind the fullest destinations, so that their owners can be named.
  void keep_inodes_of_fullest(std::size_t keep) {
    std::unordered_map<DestinationKey, std::size_t, DestinationKeyHash> top;
    for (std::size_t k = 0; k < std::min(keep, report_.destinations.size()); ++k) {
      const auto& d = report_.destinations[k];
      top.emplace(DestinationKey{d.transport, d.local_address, d.remote}, k);
    }
    for (const PortUse& s : sockets_) {
      if (s.inode == 0 || s.listening || !in_pool(s.local.port)) continue;
      DestinationKey key{s.transport, s.local.address, s.remote};
      if (s.transport == Transport::kUdp) {
        key.remote = {};
      } else if (held_[s.local.port]) {
        continue;
      }
      auto it = top.find(key);
      if (it != top.end()) report_.destinations[it->second].inodes.push_back(s.inode);
    }
  }

  std::span<const PortUse> sockets_;
  const EphemeralSettings& settings_;
  EphemeralReport report_;
  std::bitset<65536> held_;
  std::unordered_map<DestinationKey, std::size_t, DestinationKeyHash> index_;
};

}  // namespace

EphemeralReport analyze_ephemeral(std::span<const PortUse> sockets,
                                  const EphemeralSettings& settings, std::size_t keep_inodes) {
  return Analysis(sockets, settings).run(keep_inodes);
}

PortUse PortUse::of(const SocketRecord& s) {
  PortUse u;
  u.transport = s.transport;
  u.listening = s.listening();
  u.time_wait = s.state == SocketState::kTimeWait;
  u.local = s.local;
  u.remote = s.remote;
  u.autobound = s.autobound;
  if (s.state == SocketState::kSynRecv && !u.autobound) u.autobound = false;
  u.inode = s.inode;
  return u;
}

EphemeralReport analyze_ephemeral(std::span<const SocketRecord> sockets,
                                  const EphemeralSettings& settings, std::size_t keep_inodes) {
  std::vector<PortUse> uses;
  uses.reserve(sockets.size());
  for (const SocketRecord& s : sockets) uses.push_back(PortUse::of(s));
  return analyze_ephemeral(uses, settings, keep_inodes);
}

std::expected<EphemeralScan, Error> scan_ephemeral(std::size_t keep_inodes,
                                                   const ReportFn& report) {
  auto settings = EphemeralSettings::read();
  if (!settings) return std::unexpected(settings.error());
  std::string why_fallback;
  auto source = open_socket_source(&why_fallback);
  if (!source) {
    return std::unexpected(
        Error{source.error().code, "cannot read the socket table: " + source.error().what()});
  }
  if (!why_fallback.empty() && report) report(Severity::kWarning, why_fallback);
  SocketQuery query;
  query.transports = {Transport::kTcp, Transport::kUdp};
  // Streamed straight into the compact form the analysis needs (no socket table).
  std::vector<PortUse> uses;
  auto dumped =
      (*source)->dump(query, [&](const SocketRecord& s) { uses.push_back(PortUse::of(s)); });
  if (!dumped) {
    return std::unexpected(
        Error{dumped.error().code, "cannot read the socket table: " + dumped.error().what()});
  }
  if (report) {
    for (const auto& skipped : dumped->skipped) report(Severity::kWarning, skipped.what());
  }
  return EphemeralScan{analyze_ephemeral(uses, *settings, keep_inodes),
                       std::string((*source)->name())};
}

std::expected<EphemeralScan, Error> scan_ephemeral_in(const NetworkNamespace& ns,
                                                      std::size_t keep_inodes,
                                                      const ReportFn& report) {
  return run_in<EphemeralScan>(ns, [&] { return scan_ephemeral(keep_inodes, report); });
}

std::vector<ProcessShare> processes_of(const DestinationUsage& d, const ProcessOwners& owners) {
  std::vector<ProcessShare> out;
  std::unordered_map<int, std::size_t> index;  // pid -> its entry in out
  for (std::uint64_t inode : d.inodes) {
    for (const ProcessOwner& o : owners.of(inode)) {
      auto [it, added] = index.try_emplace(o.pid, out.size());
      if (added) out.push_back(ProcessShare{o.pid, std::string(o.command), 0});
      ++out[it->second].sockets;
    }
  }
  std::sort(out.begin(), out.end(), [](const ProcessShare& a, const ProcessShare& b) {
    return a.sockets != b.sockets ? a.sockets > b.sockets : a.pid < b.pid;
  });
  return out;
}

}  // namespace sockscope
