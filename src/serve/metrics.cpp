#include "serve/metrics.hpp"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <map>
#include <sstream>

namespace sockscope::serve {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Every host family's name and help, in exposition order.
struct FamilyDoc {
  const char* name;
  const char* help;
};
constexpr FamilyDoc kSockets{"sockscope_sockets",
                             "Sockets by transport and state (sock_diag dump)."};
constexpr FamilyDoc kEphemeralRangePorts{
    "sockscope_ephemeral_range_ports",
    "The ephemeral port range in force (net.ipv4.ip_local_port_range): "
    "its low and high bound, and the usable ports (not reserved)."};
constexpr FamilyDoc kEphemeralUtilizationMaxRatio{
    "sockscope_ephemeral_utilization_max_ratio",
    "The fullest destination's share of its ephemeral ports (0-1)."};
constexpr FamilyDoc kEphemeralPortsUsed{
    "sockscope_ephemeral_ports_used",
    "Ephemeral ports in use toward a destination (top N and the fullest)."};
constexpr FamilyDoc kEphemeralPortsCapacity{
    "sockscope_ephemeral_ports_capacity",
    "Ephemeral ports connect() may use toward a destination."};
constexpr FamilyDoc kEphemeralPortsTimeWait{
    "sockscope_ephemeral_ports_time_wait",
    "Of a destination's used ephemeral ports, those in TIME-WAIT."};
constexpr FamilyDoc kBindPoolPortsUsed{
    "sockscope_bind_pool_ports_used",
    "Usable ephemeral ports some TCP socket uses (bind(0) cannot take them)."};
constexpr FamilyDoc kBindPoolPortsCapacity{"sockscope_bind_pool_ports_capacity",
                                           "Usable ephemeral ports for bind(0)."};
constexpr FamilyDoc kListenerInfo{
    "sockscope_listener_info",
    "1 for every listening port: TCP listeners and UDP sockets serving a port "
    "(its disappearance is a listener gone)."};
constexpr FamilyDoc kListenerConnections{"sockscope_listener_connections",
                                         "Accepted connections of a listening port, by state."};
constexpr FamilyDoc kListenerAcceptQueueLength{
    "sockscope_listener_accept_queue_length",
    "Connections waiting for accept() on a TCP listening port."};
constexpr FamilyDoc kListenerAcceptQueueMaxLength{
    "sockscope_listener_accept_queue_max_length",
    "The accept queue's limit (the listen() backlog) of a TCP listening port."};
constexpr FamilyDoc kRemoteServiceConnections{
    "sockscope_remote_service_connections",
    "Client connections of this host by remote service (its name, \"\" for "
    "ports without one) and state."};
constexpr FamilyDoc kCollectDurationSeconds{
    "sockscope_collect_duration_seconds",
    "How long the last collection (socket dump, owners, analysis) took."};

MetricFamily family(const FamilyDoc& doc) {
  return MetricFamily{doc.name, doc.help, MetricType::Gauge, {}};
}

void gauge(MetricFamily& f, std::vector<ClientMetric::Label> labels, double value) {
  ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = value;
  f.metric.push_back(std::move(m));
}

void add_sockets(std::vector<MetricFamily>& out, const HostSnapshot& s) {
  auto f = family(kSockets);
  for (const TransportCount& c : s.sockets) {
    for (const auto& [state, n] : c.states.nonzero()) {
      gauge(f,
            {{"state", std::string(to_string(state))},
             {"transport", std::string(to_string(c.transport))}},
            double(n));
    }
  }
  out.push_back(std::move(f));
}

std::string remote_label(const DestinationUsage& d) {
  return d.transport == Transport::kUdp ? "*" : d.remote.to_string();
}

// The destinations with series of their own: the top N, and every one at least
// min_ratio full (fullest first, so both are a prefix), at most kMaxDestinations.
std::size_t listed_destinations(const EphemeralReport& r, const MetricsOptions& o,
                                Transport transport, std::vector<const DestinationUsage*>& out) {
  std::size_t n = 0;
  for (const DestinationUsage& d : r.destinations) {
    if (d.transport != transport) continue;
    if (n >= MetricsOptions::kMaxDestinations) break;
    if (n >= o.top && d.utilization() < o.min_ratio) break;
    out.push_back(&d);
    ++n;
  }
  return n;
}

// One namespace's ephemeral families: `netns` empty leaves the label out (the
// server's own namespace, without --all-netns).
struct EphemeralFamilies {
  MetricFamily range = family(kEphemeralRangePorts);
  MetricFamily max_ratio = family(kEphemeralUtilizationMaxRatio);
  MetricFamily used = family(kEphemeralPortsUsed);
  MetricFamily capacity = family(kEphemeralPortsCapacity);
  MetricFamily time_wait = family(kEphemeralPortsTimeWait);
  MetricFamily pool_used = family(kBindPoolPortsUsed);
  MetricFamily pool_capacity = family(kBindPoolPortsCapacity);

  // Labels in name order, as the other families have them.
  static std::vector<ClientMetric::Label> with_netns(std::vector<ClientMetric::Label> labels,
                                                     const std::string& netns) {
    if (netns.empty()) return labels;
    labels.push_back({"netns", netns});
    std::sort(labels.begin(), labels.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    return labels;
  }

  void add(const EphemeralReport& r, const MetricsOptions& o, const std::string& netns) {
    const auto l = [&](std::vector<ClientMetric::Label> labels) {
      return with_netns(std::move(labels), netns);
    };
    gauge(range, l({{"bound", "low"}}), r.settings.range.first);
    gauge(range, l({{"bound", "high"}}), r.settings.range.last);
    gauge(range, l({{"bound", "usable"}}), r.settings.usable());
    for (Transport t : {Transport::kTcp, Transport::kUdp}) {
      std::vector<const DestinationUsage*> listed;
      listed_destinations(r, o, t, listed);
      const std::string transport(to_string(t));
      gauge(max_ratio, l({{"transport", transport}}),
            listed.empty() ? 0.0 : std::min(1.0, listed.front()->utilization()));
      for (const DestinationUsage* d : listed) {
        const auto labels = l({{"local_address", d->local_address.to_string()},
                               {"remote", remote_label(*d)},
                               {"transport", transport}});
        gauge(used, labels, d->used);
        gauge(capacity, labels, d->capacity);
        gauge(time_wait, labels, d->time_wait);
      }
    }
    gauge(pool_used, l({}), r.bind_pool.used);
    gauge(pool_capacity, l({}), r.bind_pool.capacity);
  }

  void move_to(std::vector<MetricFamily>& out) {
    for (auto* f : {&range, &max_ratio, &used, &capacity, &time_wait, &pool_used, &pool_capacity}) {
      out.push_back(std::move(*f));
    }
  }
};

// The server's namespace, and with --all-netns every other one, each labelled.
void add_ephemeral(std::vector<MetricFamily>& out, const HostSnapshot& s, const MetricsOptions& o) {
  EphemeralFamilies f;
  if (!s.all_namespaces) {
    if (s.ephemeral) f.add(*s.ephemeral, o, std::string());
  } else {
    // The server's own namespace always (the snapshot lists it), the others
    // while they have sockets.
    for (const NamespaceEphemeral& n : s.overview.pressure.namespaces) {
      f.add(n.report, o, n.netns.label());
    }
  }
  f.move_to(out);
}

std::string join(const std::vector<std::string>& parts) {
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : ",") + p;
  return s;
}

void add_listeners(std::vector<MetricFamily>& out, const HostOverview& o) {
  auto info = family(kListenerInfo);
  auto conns = family(kListenerConnections);
  auto queue = family(kListenerAcceptQueueLength);
  auto backlog = family(kListenerAcceptQueueMaxLength);
  for (const ServedPort& p : o.served) {
    if (!p.listening) continue;
    std::vector<ClientMetric::Label> labels{{"address", join(p.addresses)},
                                            {"port", std::to_string(p.port)},
                                            {"service", service_label(p.service)},
                                            {"transport", std::string(to_string(p.transport))}};
    gauge(info, labels, 1);
    for (const auto& [state, n] : p.connections.nonzero()) {
      auto l = labels;
      l.insert(l.begin() + 3, {"state", std::string(to_string(state))});
      gauge(conns, std::move(l), double(n));
    }
    if (p.tcp_listener()) {
      gauge(queue, labels, double(p.accept_queue));
      gauge(backlog, labels, double(p.accept_backlog));
    }
  }
  for (auto* f : {&info, &conns, &queue, &backlog}) out.push_back(std::move(*f));
}

// Remote services by name: ports without a registered name are summed as "".
void add_remote(std::vector<MetricFamily>& out, const HostOverview& o) {
  std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t> sums;
  for (const RemoteService& r : o.remote) {
    for (const auto& [state, n] : r.connections.nonzero()) {
      sums[{std::string(to_string(r.transport)), service_label(r.service),
            std::string(to_string(state))}] += n;
    }
  }
  auto f = family(kRemoteServiceConnections);
  for (const auto& [key, n] : sums) {
    const auto& [transport, service, state] = key;
    gauge(f, {{"service", service}, {"state", state}, {"transport", transport}}, double(n));
  }
  out.push_back(std::move(f));
}

}  // namespace

std::string service_label(const Service* service) {
  return service ? std::string(service->name) : std::string();
}

std::vector<MetricFamily> host_families(const HostSnapshot& s, const MetricsOptions& o,
                                        unsigned parts) {
  std::vector<MetricFamily> out;
  if (parts & kSocketFamilies) add_sockets(out, s);
  if (parts & kEphemeralFamilies) add_ephemeral(out, s, o);
  if (parts & kListenerFamilies) add_listeners(out, s.overview);
  if (parts & kRemoteFamilies) add_remote(out, s.overview);
  if (parts & kSelfFamilies) {
    auto f = family(kCollectDurationSeconds);
    gauge(f, {}, s.collect_seconds);
    out.push_back(std::move(f));
  }
  return out;
}

std::string prometheus_text(const std::vector<MetricFamily>& families) {
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, families);
  return text.str();
}

}  // namespace sockscope::serve
