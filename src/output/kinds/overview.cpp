#include "output/kinds/overview.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "output/kinds/host.hpp"

namespace sockscope::output {
namespace {

void null_or(Value& v, bool present, auto&& fill) {
  if (present) {
    fill();
  } else {
    v.null();
  }
}

// Up to `shown` items as text ("a, b, +3 more"), each written by `text`.
template <class Items, class Text>
std::string first_of(const Items& items, std::size_t shown, std::size_t total, Text&& text) {
  std::string out;
  std::size_t n = 0;
  for (const auto& item : items) {
    if (n == shown) break;
    if (n++) out += ", ";
    text(item, out);
  }
  if (total > n) out += fmt::format("{}+{} more", n ? ", " : "", total - n);
  return out;
}

// Served ports and remote services share their port fields.
template <class Row>
constexpr Field kPortShown = {
    .name = "port_shown",
    .header = Row::kPortHeader,
    .meaning = "port/transport",
    .get =
        [](const void* r, Value& v) {
          const auto& row = as<Row>(r);
          v.owned(fmt::format("{}/{}", row.port, to_string(row.transport)));
        },
    .presence = Presence::kDisplay,
    .align = Align::kRight};
template <class Row>
constexpr Field kPortTransport = {
    .name = "transport", .meaning = "tcp, udp, sctp or dccp", .get = [](const void* r, Value& v) {
      v.string(to_string(as<Row>(r).transport));
    }};
template <class Row>
constexpr Field kPortNumber = {.name = "port",
                               .type = Type::kPort,
                               .meaning = Row::kPortMeaning,
                               .get = [](const void* r, Value& v) { v.count(as<Row>(r).port); }};
template <class Row>
constexpr Field kPortGroup = {
    .name = "group", .meaning = "the port's IANA group", .get = [](const void* r, Value& v) {
      v.string(to_string(group_of(as<Row>(r).port)));
    }};
template <class Row>
constexpr Field kServiceShown = {
    .name = "service_shown",
    .header = "SERVICE",
    .meaning = "the service name; NAME? when it is only IANA's name for the port (a hint)",
    .get = [](const void* r, Value& v) { v.owned(service_text(as<Row>(r).service)); },
    .presence = Presence::kDisplay};
template <class Row>
constexpr Field kPortService = {.name = "service",
                                .meaning = "the registry's name for the port (a hint), or null",
                                .get =
                                    [](const void* r, Value& v) {
                                      const Service* s = as<Row>(r).service;
                                      null_or(v, s, [&] { v.string(s->name); });
                                    },
                                .presence = Presence::kNullable};
template <class Row>
constexpr Field kServiceSource = {
    .name = "service_source",
    .meaning =
        "where the name comes from: \"iana\" (what usually runs there) or a services file "
        "on this host; null without a name",
    .get =
        [](const void* r, Value& v) {
          const Service* s = as<Row>(r).service;
          null_or(v, s, [&] { v.string(s->source); });
        },
    .presence = Presence::kNullable};
template <class Row>
constexpr Field kConnections = {
    .name = "connections",
    .type = Type::kCounts,
    .unit = Unit::kConnections,
    .header = "CONNECTIONS",
    .meaning = Row::kConnectionsMeaning,
    .get = [](const void* r, Value& v) { v.counts(as<Row>(r).connections); }};

const ServedPort& served(const void* r) { return as<ServedRow>(r).served; }

// "python3[4242]", one per process (a process may hold several of the sockets).
std::string listener_programs(const ServedPort& p) {
  if (p.processes.empty()) return "(" + std::string(to_string(p.owner_missing)) + ")";
  std::vector<const SocketOwner*> one_each;
  for (const SocketOwner& o : p.processes) {
    if (one_each.empty() || one_each.back()->pid != o.pid) one_each.push_back(&o);
  }
  return first_of(one_each, 2, one_each.size(), [](const SocketOwner* o, std::string& out) {
    append_owner(out, o->command, o->pid);
  });
}

std::string listening_on(const ServedPort& p) {
  if (!p.listening) return "(no listener now)";
  std::string text;
  for (const auto& a : p.addresses) {
    if (!text.empty()) text += ", ";
    text += a;
    if (std::find(p.dual_stack.begin(), p.dual_stack.end(), a) != p.dual_stack.end()) {
      text += " (dual-stack)";
    }
  }
  return text;
}

constexpr Field kServedFields[] = {
    {.name = "kind",
     .meaning = "\"listener\", or \"served\": accepted connections, no listener now",
     .get = [](const void* r, Value& v) { v.string(served(r).listening ? "listener" : "served"); }},
    kPortShown<ServedRow>,
    kPortTransport<ServedRow>,
    kPortNumber<ServedRow>,
    kPortGroup<ServedRow>,
    {.name = "program",
     .header = "PROGRAM",
     .meaning = "who listens: command[pid], or (why none is shown)",
     .get =
         [](const void* r, Value& v) {
           const ServedPort& p = served(r);
           null_or(v, p.owners_known, [&] { v.owned(listener_programs(p)); });
         },
     .presence = Presence::kDisplay},
    kServiceShown<ServedRow>,
    kPortService<ServedRow>,
    kServiceSource<ServedRow>,
    {.name = "addresses",
     .type = Type::kStrings,
     .meaning = "where it listens (another namespace's: \"ADDRESS in NS\")",
     .get = [](const void* r, Value& v) { v.strings(served(r).addresses); }},
    {.name = "dual_stack",
     .type = Type::kBool,
     .meaning = "its [::] socket accepts IPv4 too (IPV6_V6ONLY off)",
     .get = [](const void* r, Value& v) { v.boolean(!served(r).dual_stack.empty()); }},
    {.name = "listening_on",
     .header = "LISTENING ON",
     .meaning = "the addresses",
     .get = [](const void* r, Value& v) { v.owned(listening_on(served(r))); },
     .presence = Presence::kDisplay},
    kConnections<ServedRow>,
    {.name = "client_hosts",
     .type = Type::kCount,
     .unit = Unit::kHosts,
     .header = "CLIENTS",
     .meaning = "distinct remote addresses of the accepted connections",
     .get = [](const void* r, Value& v) { v.count(served(r).client_hosts); }},
    {.name = "accept_queue",
     .type = Type::kCount,
     .unit = Unit::kConnections,
     .meaning = "TCP listeners: connections waiting for accept(); null otherwise",
     .get =
         [](const void* r, Value& v) {
           null_or(v, served(r).tcp_listener(), [&] { v.count(served(r).accept_queue); });
         },
     .presence = Presence::kNullable},
    {.name = "accept_backlog",
     .type = Type::kCount,
     .unit = Unit::kConnections,
     .meaning = "TCP listeners: the most that may wait (listen()'s backlog); null otherwise",
     .get =
         [](const void* r, Value& v) {
           null_or(v, served(r).tcp_listener(), [&] { v.count(served(r).accept_backlog); });
         },
     .presence = Presence::kNullable},
    {.name = "accept_queue_full",
     .type = Type::kBool,
     .meaning = "a listening socket holds more than its backlog: new handshakes are dropped",
     .get = [](const void* r, Value& v) { v.boolean(served(r).accept_queue_full); }},
    {.name = "accept_shown",
     .header = "ACCEPT QUEUE",
     .meaning = "waiting/backlog when any wait",
     .get =
         [](const void* r, Value& v) {
           const ServedPort& p = served(r);
           if (!p.tcp_listener() || p.accept_queue == 0) return v.null();
           v.owned(fmt::format("{}/{}{}", p.accept_queue, p.accept_backlog,
                               p.accept_queue_full ? " full" : ""));
         },
     .presence = Presence::kDisplay,
     .align = Align::kRight,
     .table_usual = "-"},
    {.name = "processes",
     .type = Type::kRecords,
     .meaning = "with owners: who holds the listening sockets [{pid, command, fd}]",
     .get =
         [](const void* r, Value& v) {
           const ServedPort& p = served(r);
           null_or(v, p.owners_known && !p.processes.empty(),
                   [&] { v.records(kSocketOwnerKind, std::span<const SocketOwner>(p.processes)); });
         },
     .presence = Presence::kOptional},
    {.name = "owner_missing",
     .meaning = "with owners, when none is shown: no-permission, other-netns, no-process",
     .get =
         [](const void* r, Value& v) {
           const ServedPort& p = served(r);
           null_or(v, p.owners_known && p.processes.empty(),
                   [&] { v.string(to_string(p.owner_missing)); });
         },
     .presence = Presence::kOptional},
};

// Programs last: their names vary in length the most (and the golden test masks pids).
constexpr std::string_view kServedTable[] = {"port_shown",  "service_shown", "listening_on",
                                             "connections", "client_hosts",  "accept_shown",
                                             "program"};

// Remote services.
const RemoteService& remote(const void* r) { return as<RemoteRow>(r).remote; }

void host_text(const void* r, std::string& out) {
  const auto& h = as<RemoteHost>(r);
  out += h.address.to_string();
  out += " x";
  out += fmt::format_int(h.connections).c_str();
}

constexpr Field kRemoteHostFields[] = {
    {.name = "address",
     .type = Type::kAddress,
     .meaning = "the remote host",
     .get = [](const void* r, Value& v) { v.owned(as<RemoteHost>(r).address.to_string()); }},
    {.name = "connections",
     .type = Type::kCount,
     .unit = Unit::kConnections,
     .meaning = "connections to it",
     .get = [](const void* r, Value& v) { v.count(as<RemoteHost>(r).connections); }},
};

// "firefox[812] x20, curl[90] x1, 2 no-permission": the programs, then the
// connections whose owner could not be read (TIME-WAIT has none to read).
std::string local_programs(const RemoteRow& row) {
  const RemoteService& s = row.remote;
  std::string text =
      first_of(s.processes, 3, s.processes.size(),
               [](const ProcessShare& p, std::string& out) { kProcessShareKind.text(&p, out); });
  for (const auto& [why, n] : s.owners_missing.nonzero()) {
    if (why == OwnerMissing::kTimeWait || why == OwnerMissing::kKernelOwned) continue;
    text += fmt::format("{}{} {}", text.empty() ? "" : ", ", n, to_string(why));
  }
  return text.empty() ? "-" : text;
}

constexpr Field kRemoteFields[] = {
    {.name = "kind",
     .meaning = "\"remote_service\"",
     .get = [](const void*, Value& v) { v.string("remote_service"); }},
    kPortShown<RemoteRow>,
    kPortTransport<RemoteRow>,
    kPortNumber<RemoteRow>,
    kPortGroup<RemoteRow>,
    kServiceShown<RemoteRow>,
    kPortService<RemoteRow>,
    kServiceSource<RemoteRow>,
    {.name = "remote_hosts",
     .type = Type::kCount,
     .unit = Unit::kHosts,
     .meaning = "distinct remote addresses",
     .get = [](const void* r, Value& v) { v.count(remote(r).hosts); }},
    {.name = "top_hosts",
     .type = Type::kRecords,
     .meaning = "the busiest remote hosts [{address, connections}], most connections first",
     .get =
         [](const void* r, Value& v) {
           v.records(kRemoteHostKind, std::span<const RemoteHost>(remote(r).top_hosts));
         }},
    {.name = "hosts_shown",
     .header = "REMOTE HOSTS",
     .meaning = "the busiest hosts, then a count",
     .get =
         [](const void* r, Value& v) {
           const RemoteService& s = remote(r);
           v.owned(first_of(s.top_hosts, s.top_hosts.size(), s.hosts,
                            [](const RemoteHost& h, std::string& out) { host_text(&h, out); }));
         },
     .presence = Presence::kDisplay},
    {.name = "processes",
     .type = Type::kRecords,
     .meaning = "with owners: the local programs [{pid, command, sockets}], most connections first",
     .get =
         [](const void* r, Value& v) {
           const RemoteService& s = remote(r);
           null_or(v, s.owners_known, [&] {
             v.records(kProcessShareKind, std::span<const ProcessShare>(s.processes));
           });
         },
     .presence = Presence::kOptional},
    {.name = "owners_missing",
     .type = Type::kCounts,
     .unit = Unit::kConnections,
     .meaning = "with owners: connections without one, by reason {\"time-wait\": n, ...}",
     .get =
         [](const void* r, Value& v) {
           null_or(v, remote(r).owners_known, [&] { v.counts(as<RemoteRow>(r).owners_missing); });
         },
     .presence = Presence::kOptional},
    {.name = "programs",
     .header = "LOCAL PROGRAMS",
     .meaning = "the local programs, busiest first",
     .get =
         [](const void* r, Value& v) {
           null_or(v, remote(r).owners_known, [&] { v.owned(local_programs(as<RemoteRow>(r))); });
         },
     .presence = Presence::kDisplay},
    kConnections<RemoteRow>,
};

constexpr std::string_view kRemoteTable[] = {"port_shown", "service_shown", "hosts_shown",
                                             "connections", "programs"};

// Pressures.
const PressureRow& pressure(const void* r) { return as<PressureRow>(r); }
const DestinationUsage* destination(const void* r) {
  const auto* e = pressure(r).ephemeral;
  return e ? &e->destination : nullptr;
}

constexpr Field kPressureFields[] = {
    {.name = "kind",
     .meaning = "\"pressure\"",
     .get = [](const void*, Value& v) { v.string("pressure"); }},
    {.name = "pressure",
     .meaning = "ephemeral-ports (the fullest destination), time-wait, accept-queue-full (one "
                "listener), owners-missing (one reason)",
     .get = [](const void* r, Value& v) { v.string(pressure(r).pressure); }},
    {.name = "pressure_shown",
     .header = "PRESSURE",
     .meaning = "what is under pressure",
     .get =
         [](const void* r, Value& v) {
           const std::string_view p = pressure(r).pressure;
           v.string(p == "ephemeral-ports"     ? "ephemeral ports"
                    : p == "time-wait"         ? "TIME-WAIT"
                    : p == "accept-queue-full" ? "accept queue full"
                                               : "owners not shown");
         },
     .presence = Presence::kDisplay},
    {.name = "level",
     .meaning = "info, warning (80% and more, a full accept queue) or error (none left)",
     .get = [](const void* r, Value& v) { v.string(pressure(r).level); }},
    {.name = "count",
     .type = Type::kCount,
     .meaning = "ephemeral-ports: ports used toward the destination; time-wait, owners-missing: "
                "sockets; accept-queue-full: connections waiting",
     .get = [](const void* r, Value& v) { v.count(pressure(r).count); }},
    {.name = "limit",
     .type = Type::kCount,
     .meaning = "ephemeral-ports: the ports it may use; accept-queue-full: the backlog",
     .get =
         [](const void* r, Value& v) {
           const auto& l = pressure(r).limit;
           null_or(v, l.has_value(), [&] { v.count(*l); });
         },
     .presence = Presence::kOptional},
    {.name = "utilization_pct",
     .type = Type::kNumber,
     .unit = Unit::kPercent,
     .meaning = "ephemeral-ports: count / limit, in percent",
     .get =
         [](const void* r, Value& v) {
           const auto* d = destination(r);
           null_or(v, d, [&] { v.number(d->utilization() * 100.0); });
         },
     .presence = Presence::kOptional},
    {.name = "transport",
     .meaning = "ephemeral-ports, accept-queue-full: tcp or udp",
     .get =
         [](const void* r, Value& v) {
           const PressureRow& p = pressure(r);
           if (p.ephemeral) return v.string(to_string(p.ephemeral->destination.transport));
           null_or(v, p.listener, [&] { v.string(to_string(p.listener->transport)); });
         },
     .presence = Presence::kOptional},
    {.name = "local_address",
     .type = Type::kAddress,
     .meaning = "ephemeral-ports: the local address the ports are taken on",
     .get =
         [](const void* r, Value& v) {
           const auto* d = destination(r);
           null_or(v, d, [&] { v.owned(d->local_address.to_string()); });
         },
     .presence = Presence::kOptional},
    {.name = "remote",
     .type = Type::kEndpoint,
     .meaning = "ephemeral-ports over TCP: the destination (UDP ports are per local address)",
     .get =
         [](const void* r, Value& v) {
           const auto* d = destination(r);
           null_or(v, d && d->transport != Transport::kUdp, [&] { v.endpoint(d->remote); });
         },
     .presence = Presence::kOptional},
    {.name = "port",
     .type = Type::kPort,
     .meaning = "accept-queue-full: the listener's port",
     .get =
         [](const void* r, Value& v) {
           const ServedPort* l = pressure(r).listener;
           null_or(v, l, [&] { v.count(l->port); });
         },
     .presence = Presence::kOptional},
    {.name = "reason",
     .meaning = "owners-missing: no-permission, other-netns or no-process",
     .get =
         [](const void* r, Value& v) {
           const OwnerMissing why = pressure(r).reason;
           null_or(v, why != OwnerMissing::kNone, [&] { v.string(to_string(why)); });
         },
     .presence = Presence::kOptional},
    {.name = "netns",
     .meaning = "ephemeral-ports with --all-netns: the destination's namespace",
     .get =
         [](const void* r, Value& v) {
           const auto* e = pressure(r).ephemeral;
           v.string_or_null(e ? std::string_view(e->netns) : std::string_view());
         },
     .presence = Presence::kOptional},
    {.name = "processes",
     .type = Type::kRecords,
     .meaning = "ephemeral-ports with owners: who holds the ports [{pid, command, sockets}]",
     .get =
         [](const void* r, Value& v) {
           const auto* e = pressure(r).ephemeral;
           null_or(v, e && !e->processes.empty(), [&] {
             v.records(kProcessShareKind, std::span<const ProcessShare>(e->processes));
           });
         },
     .presence = Presence::kOptional},
    {.name = "hint",
     .meaning = "what to do or where to look next, when there is advice",
     .get = [](const void* r, Value& v) { v.string_or_null(pressure(r).hint); },
     .presence = Presence::kOptional},
    {.name = "detail",
     .header = "DETAIL",
     .meaning = "the pressure in one line",
     .get = [](const void* r, Value& v) { v.string(pressure(r).detail); },
     .presence = Presence::kDisplay},
};

const HostOverview& ov(const void* r) { return as<OverviewSummaryRow>(r).overview; }

constexpr Field kSummaryFields[] = {
    {.name = "kind",
     .meaning = "\"summary\"",
     .get = [](const void*, Value& v) { v.string("summary"); }},
    {.name = "time",
     .type = Type::kTime,
     .meaning = "--watch: when the snapshot was taken",
     .get = [](const void* r, Value& v) { v.count(as<OverviewSummaryRow>(r).time_ns); }},
    {.name = "sockets",
     .type = Type::kCount,
     .unit = Unit::kSockets,
     .meaning = "sockets seen",
     .get = [](const void* r, Value& v) { v.count(ov(r).sockets); }},
    {.name = "listeners",
     .type = Type::kCount,
     .unit = Unit::kSockets,
     .meaning = "listening",
     .get = [](const void* r, Value& v) { v.count(ov(r).listeners); }},
    {.name = "server_side",
     .type = Type::kCount,
     .unit = Unit::kSockets,
     .meaning = "accepted/served connections",
     .get = [](const void* r, Value& v) { v.count(ov(r).server_side); }},
    {.name = "client_side",
     .type = Type::kCount,
     .unit = Unit::kSockets,
     .meaning = "client connections",
     .get = [](const void* r, Value& v) { v.count(ov(r).client_side); }},
    {.name = "unknown",
     .type = Type::kCount,
     .unit = Unit::kSockets,
     .meaning = "unclassified: no listener, no kernel bit, ports too alike to tell",
     .get = [](const void* r, Value& v) { v.count(ov(r).unknown); }},
    {.name = "network_namespaces",
     .type = Type::kCount,
     .meaning = "namespaces read",
     .get = [](const void* r, Value& v) { v.count(ov(r).namespaces); }},
    {.name = "source",
     .meaning = "netlink, /proc/net or recorded",
     .get = [](const void* r, Value& v) { v.string(as<OverviewSummaryRow>(r).source); }},
    {.name = "owners",
     .type = Type::kBool,
     .meaning = "whether owning processes were looked up (false with --no-processes)",
     .get = [](const void* r, Value& v) { v.boolean(as<OverviewSummaryRow>(r).owners); }},
};

int percent(double utilization) { return int(utilization * 100.0 + 1e-9); }

PressureRow ephemeral_row(const EphemeralPressure& e) {
  const DestinationUsage& d = e.destination;
  const int pct = percent(d.utilization());
  const bool tcp = d.transport != Transport::kUdp;
  PressureRow row{.pressure = "ephemeral-ports",
                  .level = d.exhausted() ? "error"
                           : pct >= 80   ? "warning"
                                         : "info",
                  .count = d.used,
                  .limit = d.capacity,
                  .ephemeral = &e};
  const std::string local = d.local_address.to_string();
  row.detail =
      fmt::format("{} of {} {} ports ({}%) ", d.used, d.capacity, to_string(d.transport), pct);
  row.detail += tcp ? fmt::format("toward {} from {}", d.remote.to_string(), local)
                    : fmt::format("on {} (UDP ports are per local address)", local);
  if (!e.netns.empty()) row.detail += " in " + e.netns;
  if (!e.processes.empty()) {
    row.detail += ", held by " + first_of(e.processes, 3, e.processes.size(),
                                          [](const ProcessShare& p, std::string& out) {
                                            kProcessShareKind.text(&p, out);
                                          });
  }
  if (d.exhausted()) {
    row.detail += tcp ? ": connect() to it fails with EADDRNOTAVAIL"
                      : ": binding a new port on it fails with EADDRINUSE";
  }
  if (row.level != "info") {
    row.hint = "sockscope ephemeral: every destination, the bind(0) pool, who holds the ports";
  }
  return row;
}

PressureRow accept_row(const ServedPort& s) {
  PressureRow row{.pressure = "accept-queue-full",
                  .level = "warning",
                  .count = s.accept_queue,
                  .limit = s.accept_backlog,
                  .listener = &s};
  row.detail = fmt::format("{}/{}", s.port, to_string(s.transport));
  if (s.owners_known) row.detail += " " + listener_programs(s);
  row.detail += fmt::format(": {} waiting for accept(), backlog {}: new connections are dropped",
                            s.accept_queue, s.accept_backlog);
  row.hint =
      "the program accepts too slowly, or its listen() backlog is too small (capped by "
      "net.core.somaxconn)";
  return row;
}

PressureRow owners_row(OwnerMissing why, std::uint64_t n, std::string_view how_to_read) {
  PressureRow row{.pressure = "owners-missing", .level = "info", .count = n, .reason = why};
  std::string_view what;
  switch (why) {
    case OwnerMissing::kNoPermission:
      what = "other users' processes, whose /proc/PID/fd is not readable";
      row.hint = std::string(how_to_read);
      break;
    case OwnerMissing::kOtherNetns:
      what = "in network namespaces whose processes are not visible from here";
      break;
    default:
      what =
          "no process visible from here holds them (kernel sockets, other PID namespaces, or "
          "closed during the scan)";
  }
  row.detail = fmt::format("{} socket{}: {}", n, n == 1 ? "" : "s", what);
  if (!row.hint.empty()) row.detail += "; " + row.hint;
  return row;
}

}  // namespace

PortRow::PortRow(Transport t, Port p, const Service* s, const StateCounts& counts)
    : transport(t), port(p), service(s) {
  for (const auto& [state, n] : counts.nonzero()) connections.push_back({to_string(state), n});
}

RemoteRow::RemoteRow(const RemoteService& s)
    : PortRow(s.transport, s.port, s.service, s.connections), remote(s) {
  for (const auto& [why, n] : s.owners_missing.nonzero()) {
    owners_missing.push_back({to_string(why), n});
  }
}

std::string service_text(const Service* service) {
  if (!service) return "-";
  std::string text(service->name);
  if (!service->is_local()) text += '?';
  return text;
}

const RecordKind kServedKind{"served_port", kServedFields,
                             "a port this host serves, who listens and how busy (the overview)",
                             kServedTable};
const RecordKind kRemoteServiceKind{"remote_service", kRemoteFields,
                                    "a remote service this host talks to, with whom and from which "
                                    "programs (the overview)",
                                    kRemoteTable};
const RecordKind kRemoteHostKind{
    "remote_host", kRemoteHostFields, "a remote host of a remote service", {}, host_text};
const RecordKind kPressureKind{"pressure", kPressureFields,
                               "where the host is under pressure (the overview)"};
const RecordKind kOverviewSummaryKind{"summary", kSummaryFields, "the overview's totals"};

std::vector<PressureRow> pressure_rows(const HostOverview& o, std::string_view how_to_read_owners) {
  std::vector<PressureRow> rows;
  const OverviewPressure& p = o.pressure;
  if (p.ephemeral) rows.push_back(ephemeral_row(*p.ephemeral));
  if (p.time_wait > 0) {
    rows.push_back({.pressure = "time-wait",
                    .level = "info",
                    .count = p.time_wait,
                    .detail = fmt::format("{} socket{}: closed connections the kernel keeps for "
                                          "60 s, their ports still taken",
                                          p.time_wait, p.time_wait == 1 ? "" : "s")});
  }
  for (const ServedPort& s : o.served) {
    if (s.accept_queue_full) rows.push_back(accept_row(s));
  }
  for (const auto& [why, n] : p.owners_missing.nonzero()) {
    rows.push_back(owners_row(why, n, how_to_read_owners));
  }
  return rows;
}

}  // namespace sockscope::output
