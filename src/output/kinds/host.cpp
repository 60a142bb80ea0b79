#include "output/kinds/host.hpp"

#include <fmt/format.h>

#include "output/table_store.hpp"
#include "output/text.hpp"
#include "output/writer.hpp"
#include "sockscope/community_id.hpp"

namespace sockscope::output {

void append_owner(std::string& out, std::string_view command, int pid) {
  out.append(command);
  out.push_back('[');
  out.append(fmt::format_int(pid).c_str());
  out.push_back(']');
}

namespace {

const SocketRow& sock(const void* r) { return as<SocketRow>(r); }
const SocketRecord& rec(const void* r) { return sock(r).row.socket.record; }

void null_or(Value& v, bool present, auto&& fill) {
  if (present) {
    fill();
  } else {
    v.null();
  }
}

// A process holding a socket, from the scan (ProcessOwner) or copied (SocketOwner).
template <class Owner>
constexpr Field kProcessFields[] = {
    {.name = "pid", .type = Type::kInteger, .meaning = "process id",
     .get = [](const void* r, Value& v) { v.integer(as<Owner>(r).pid); }},
    {.name = "command", .meaning = "the command (/proc/PID/comm, 15 characters at most)",
     .get = [](const void* r, Value& v) { v.string(as<Owner>(r).command); }},
    {.name = "fd", .type = Type::kInteger, .meaning = "the descriptor holding the socket",
     .get = [](const void* r, Value& v) { v.integer(as<Owner>(r).fd); }},
};

template <class Owner>
void process_text(const void* r, std::string& out) {
  const auto& o = as<Owner>(r);
  append_owner(out, o.command, o.pid);
  out += ":fd";
  out += fmt::format_int(o.fd).c_str();
}

constexpr Field kSocketFields[] = {
    {.name = "mark", .header = " ", .meaning = "--watch: + appeared, - disappeared",
     .get =
         [](const void* r, Value& v) {
           const std::string_view e = sock(r).event;
           v.string(e == "appeared" ? "+" : e == "disappeared" ? "-" : "");
         },
     .presence = Presence::kDisplay},
    {.name = "event", .meaning = "--watch: appeared or disappeared",
     .get = [](const void* r, Value& v) { v.string_or_null(sock(r).event); },
     .presence = Presence::kOptional},
    {.name = "new_listener", .type = Type::kBool,
     .meaning = "--watch: a listener that appeared (unexplained open ports are a concern)",
     .get = [](const void* r, Value& v) { v.boolean(sock(r).new_listener); },
     .presence = Presence::kSparse},
    {.name = "transport", .header = "NETID", .meaning = "tcp, udp, sctp or dccp",
     .get = [](const void* r, Value& v) { v.string(to_string(rec(r).transport)); }},
    {.name = "state", .header = "STATE", .meaning = "ss's state name: ESTAB, LISTEN, TIME-WAIT, ...",
     .get = [](const void* r, Value& v) { v.string(to_string(rec(r).state)); }},
    {.name = "local", .type = Type::kEndpoint, .header = "LOCAL", .meaning = "this host's socket",
     .get = [](const void* r, Value& v) { v.endpoint(rec(r).local); }},
    {.name = "remote", .type = Type::kEndpoint, .header = "PEER", .meaning = "the peer's socket",
     .get = [](const void* r, Value& v) { v.endpoint(rec(r).remote); }},
    {.name = "role", .meaning = "the local side: listener, server, client or unknown",
     .get = [](const void* r, Value& v) { v.string(to_string(sock(r).row.socket.role)); }},
    {.name = "role_evidence",
     .meaning = "listener, accepted, autobound, well-known-port, registered-vs-ephemeral, "
                "lower-port-guess",
     .get = [](const void* r, Value& v) { v.string(to_string(sock(r).row.socket.evidence)); }},
    {.name = "role_shown", .header = "ROLE", .meaning = "the role with its evidence",
     .get =
         [](const void* r, Value& v) {
           const HostSocket& s = sock(r).row.socket;
           if (s.role == LocalRole::kListener) {
             v.string(to_string(s.role));
           } else {
             v.joined({to_string(s.role), " (", to_string(s.evidence), ")"});
           }
         },
     .presence = Presence::kDisplay},
    {.name = "service", .header = "SERVICE",
     .meaning = "the registry's name for the server side's port (a hint), or null",
     .get =
         [](const void* r, Value& v) {
           const Service* s = sock(r).row.service;
           null_or(v, s, [&] { v.string(s->name); });
         },
     .presence = Presence::kNullable},
    {.name = "recv_q", .type = Type::kCount, .header = "RECV-Q",
     .meaning = "bytes not yet read; listeners: connections waiting to be accepted",
     .get = [](const void* r, Value& v) { v.count(rec(r).rqueue); }},
    {.name = "send_q", .type = Type::kCount, .header = "SEND-Q",
     .meaning = "bytes not yet acknowledged; listeners: the accept backlog's maximum",
     .get = [](const void* r, Value& v) { v.count(rec(r).wqueue); }},
    {.name = "uid", .type = Type::kCount, .meaning = "the socket's owner uid",
     .get = [](const void* r, Value& v) { v.count(rec(r).uid); }},
    {.name = "inode", .type = Type::kCount, .meaning = "the socket's inode (0: no file)",
     .get = [](const void* r, Value& v) { v.count(rec(r).inode); }},
    {.name = "autobound", .type = Type::kBool,
     .meaning = "whether the kernel chose the local port; null when the source cannot tell",
     .get =
         [](const void* r, Value& v) {
           const auto& a = rec(r).autobound;
           null_or(v, a.has_value(), [&] { v.boolean(*a); });
         },
     .presence = Presence::kNullable},
    {.name = "community_id", .meaning = "Community ID v1 of the pair; null without a peer",
     .get =
         [](const void* r, Value& v) {
           null_or(v, !rec(r).unconnected(), [&] { v.owned(community_id(sock(r).row.socket.pair())); });
         },
     .presence = Presence::kNullable},
    {.name = "netns", .header = "NETNS",
     .meaning = "the network namespace: its `ip netns` name, else net:[INODE]",
     .get =
         [](const void* r, Value& v) {
           const NetworkNamespace& ns = sock(r).row.netns;
           if (ns.name.empty()) return v.owned(ns.label());
           v.string(ns.name);
         }},
    {.name = "processes", .type = Type::kRecords,
     .meaning = "with -p: the processes holding the socket [{pid, command, fd}]",
     .get =
         [](const void* r, Value& v) {
           const HostRow& row = sock(r).row;
           null_or(v, row.owners_known && !row.owners.empty(),
                   [&] { v.records(kProcessKind, row.owners); });
         },
     .presence = Presence::kOptional},
    {.name = "owner_missing",
     .meaning = "with -p, when no process holds it: time-wait, kernel-owned, no-permission, "
                "other-netns, no-process",
     .get =
         [](const void* r, Value& v) {
           const HostRow& row = sock(r).row;
           null_or(v, row.owners_known && row.owners.empty(),
                   [&] { v.string(to_string(row.owner_missing)); });
         },
     .presence = Presence::kOptional},
    {.name = "owner_missing_reason", .meaning = "the reason in one human sentence",
     .get =
         [](const void* r, Value& v) {
           const HostRow& row = sock(r).row;
           null_or(v, row.owners_known && row.owners.empty(),
                   [&] { v.string(explain(row.owner_missing)); });
         },
     .presence = Presence::kOptional},
    {.name = "owners_shown", .header = "PROCESS", .meaning = "owners, or (why none)",
     .get =
         [](const void* r, Value& v) {
           const HostRow& row = sock(r).row;
           if (!row.owners_known) return v.null();
           std::string text;
           if (row.owners.empty()) {
             text = "(" + std::string(to_string(row.owner_missing)) + ")";
           }
           for (const ProcessOwner& o : row.owners) {
             if (!text.empty()) text += ',';
             process_text<ProcessOwner>(&o, text);
           }
           v.owned(std::move(text));
         },
     .presence = Presence::kDisplay},
    {.name = "change", .header = "CHANGE", .meaning = "--watch: what happened",
     .get =
         [](const void* r, Value& v) {
           v.string(sock(r).new_listener ? "NEW LISTENER" : sock(r).event);
         },
     .presence = Presence::kDisplay},
};

// The socket table's cells written directly: the 100k-socket table is the hot path
// of `sockets`. Each case writes what the field's getter and the table's rules give.
constexpr std::size_t socket_field(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kSocketFields); ++i) {
    if (kSocketFields[i].name == name) return i;
  }
  return std::size(kSocketFields);
}

void append_text(TableRow& out, std::string_view s) {
  if (has_control(s)) {
    out.cell(terminal_safe(s));
  } else {
    out.cell(s);
  }
}

void number_cell(TableRow& out, std::uint64_t n) {
  const fmt::format_int digits(n);
  out.ascii_cell(std::string_view(digits.data(), digits.size()));
}

void endpoint_cell(TableRow& out, const Endpoint& ep) {
  out.wrote(ep.format(out.room(Endpoint::kMaxTextSize)));
  if (ep.address.zone().empty()) {
    out.end_ascii_cell();
  } else {
    out.end_cell();  // a zone may be any interface name
  }
}

void owners_cell(TableRow& out, const HostRow& row) {
  if (!row.owners_known) return out.ascii_cell("-");
  if (row.owners.empty()) {
    out.put("(");
    out.put(to_string(row.owner_missing));
    out.put(")");
    return out.end_ascii_cell();
  }
  std::string item;
  for (std::size_t i = 0; i < row.owners.size(); ++i) {
    item.clear();
    if (i) item.push_back(',');
    process_text<ProcessOwner>(&row.owners[i], item);
    out.put(has_control(item) ? terminal_safe(item) : item);
  }
  out.end_cell();
}

void socket_table_row(const void* r, std::span<const Field* const> shown, TableRow& out) {
  const SocketRow& s = sock(r);
  const SocketRecord& rec = s.row.socket.record;
  for (const Field* f : shown) {
    switch (std::size_t(f - kSocketFields)) {
      case socket_field("transport"): out.ascii_cell(to_string(rec.transport)); break;
      case socket_field("state"): out.ascii_cell(to_string(rec.state)); break;
      case socket_field("recv_q"): number_cell(out, rec.rqueue); break;
      case socket_field("send_q"): number_cell(out, rec.wqueue); break;
      case socket_field("local"): endpoint_cell(out, rec.local); break;
      case socket_field("remote"): endpoint_cell(out, rec.remote); break;
      case socket_field("role_shown"): {
        const HostSocket& h = s.row.socket;
        out.put(to_string(h.role));
        if (h.role != LocalRole::kListener) {
          out.put(" (");
          out.put(to_string(h.evidence));
          out.put(")");
        }
        out.end_ascii_cell();
        break;
      }
      case socket_field("service"):
        if (!s.row.service) {
          out.ascii_cell("-");
        } else {
          append_text(out, s.row.service->name);
        }
        break;
      case socket_field("owners_shown"): owners_cell(out, s.row); break;
      default: table_cell(*f, r, out); break;
    }
  }
}

constexpr std::string_view kSocketTable[] = {
    "mark",       "transport", "state",   "recv_q", "send_q",       "local",
    "remote",     "role_shown", "service", "netns",  "owners_shown", "change"};

// Ephemeral ports.
const DestinationUsage& dest(const void* r) { return as<DestinationRow>(r).destination; }

constexpr Field kShareFields[] = {
    {.name = "pid", .type = Type::kInteger, .meaning = "process id",
     .get = [](const void* r, Value& v) { v.integer(as<ProcessShare>(r).pid); }},
    {.name = "command", .meaning = "the command",
     .get = [](const void* r, Value& v) { v.string(as<ProcessShare>(r).command); }},
    {.name = "sockets", .type = Type::kCount, .unit = Unit::kSockets,
     .meaning = "how many of the sockets in question (a destination's, a service's) it holds",
     .get = [](const void* r, Value& v) { v.count(as<ProcessShare>(r).sockets); }},
};

void share_text(const void* r, std::string& out) {
  const auto& p = as<ProcessShare>(r);
  append_owner(out, p.command, p.pid);
  out += " x";
  out += fmt::format_int(p.sockets).c_str();
}

constexpr Field kDestinationFields[] = {
    {.name = "kind", .meaning = "\"destination\"",
     .get = [](const void*, Value& v) { v.string("destination"); }},
    {.name = "transport", .header = "PROTO", .meaning = "tcp or udp",
     .get = [](const void* r, Value& v) { v.string(to_string(dest(r).transport)); }},
    {.name = "local_address", .type = Type::kAddress, .header = "LOCAL",
     .meaning = "the local address the ports are taken on",
     .get = [](const void* r, Value& v) { v.owned(dest(r).local_address.to_string()); }},
    {.name = "remote", .type = Type::kEndpoint,
     .meaning = "the destination; null for UDP (ports are per local address)",
     .get =
         [](const void* r, Value& v) {
           null_or(v, dest(r).transport != Transport::kUdp, [&] { v.endpoint(dest(r).remote); });
         },
     .presence = Presence::kNullable},
    {.name = "destination", .header = "DESTINATION", .meaning = "the destination",
     .get =
         [](const void* r, Value& v) {
           if (dest(r).transport == Transport::kUdp) return v.string("(any, per local address)");
           v.owned(dest(r).remote.to_string());
         },
     .presence = Presence::kDisplay},
    {.name = "used", .type = Type::kCount, .unit = Unit::kPorts, .header = "USED",
     .meaning = "ports of the pool taken toward it (TIME_WAIT included)",
     .get = [](const void* r, Value& v) { v.count(dest(r).used); }},
    {.name = "capacity", .type = Type::kCount, .unit = Unit::kPorts, .header = "CAPACITY",
     .meaning = "usable ports minus those held by bind()",
     .get = [](const void* r, Value& v) { v.count(dest(r).capacity); }},
    {.name = "time_wait", .type = Type::kCount, .unit = Unit::kPorts, .header = "TIME_WAIT",
     .meaning = "of the used ports, in TIME_WAIT",
     .get = [](const void* r, Value& v) { v.count(dest(r).time_wait); }},
    {.name = "utilization_pct", .type = Type::kNumber, .unit = Unit::kPercent, .header = "USE%",
     .meaning = "used / capacity, in percent",
     .get = [](const void* r, Value& v) { v.number(dest(r).utilization() * 100.0); }},
    {.name = "processes", .type = Type::kRecords,
     .meaning = "who holds the ports [{pid, command, sockets}], most first; null when not looked up",
     .get =
         [](const void* r, Value& v) {
           const auto* p = as<DestinationRow>(r).processes;
           null_or(v, p, [&] { v.records(kProcessShareKind, std::span<const ProcessShare>(*p)); });
         },
     .presence = Presence::kNullable},
    {.name = "processes_shown", .header = "PROCESSES", .meaning = "the top three",
     .get =
         [](const void* r, Value& v) {
           const auto* p = as<DestinationRow>(r).processes;
           if (!p) return v.null();
           std::string text;
           for (std::size_t k = 0; k < p->size() && k < 3; ++k) {
             if (k) text += ", ";
             share_text(&(*p)[k], text);
           }
           if (p->size() > 3) text += fmt::format(", +{} more", p->size() - 3);
           v.owned(std::move(text));
         },
     .presence = Presence::kDisplay},
};

constexpr std::string_view kDestinationTable[] = {"transport", "local_address", "destination",
                                                  "used",      "capacity",      "utilization_pct",
                                                  "time_wait", "processes_shown"};

const EphemeralReport& pool(const void* r) { return as<BindPoolRow>(r).report; }

constexpr Field kBindPoolFields[] = {
    {.name = "kind", .meaning = "\"bind_pool\"",
     .get = [](const void*, Value& v) { v.string("bind_pool"); }},
    {.name = "used", .type = Type::kCount, .unit = Unit::kPorts,
     .meaning = "usable ports some TCP socket uses",
     .get = [](const void* r, Value& v) { v.count(pool(r).bind_pool.used); }},
    {.name = "capacity", .type = Type::kCount, .unit = Unit::kPorts, .meaning = "usable ports",
     .get = [](const void* r, Value& v) { v.count(pool(r).bind_pool.capacity); }},
    {.name = "free", .type = Type::kCount, .unit = Unit::kPorts,
     .meaning = "what bind(port 0) has left",
     .get = [](const void* r, Value& v) { v.count(pool(r).bind_pool.free()); }},
    {.name = "utilization_pct", .type = Type::kNumber, .unit = Unit::kPercent,
     .meaning = "used / capacity, in percent",
     .get = [](const void* r, Value& v) { v.number(pool(r).bind_pool.utilization() * 100.0); }},
    {.name = "bind_held", .type = Type::kCount, .unit = Unit::kPorts,
     .meaning = "usable ports held by explicit bind() (never lent to connect())",
     .get = [](const void* r, Value& v) { v.count(pool(r).bind_held); }},
    {.name = "range", .meaning = "net.ipv4.ip_local_port_range as first-last",
     .get = [](const void* r, Value& v) { v.owned(pool(r).settings.range.to_string()); }},
    {.name = "reserved", .meaning = "net.ipv4.ip_local_reserved_ports as the sysctl prints it",
     .get = [](const void* r, Value& v) { v.string(pool(r).settings.reserved_text); }},
};

}  // namespace

const RecordKind kProcessKind{"process", kProcessFields<ProcessOwner>,
                              "a process holding a socket", {}, process_text<ProcessOwner>};
const RecordKind kSocketOwnerKind{"process", kProcessFields<SocketOwner>,
                                  "a process holding a socket", {}, process_text<SocketOwner>};
const RecordKind kSocketKind{"socket",         kSocketFields,
                             "one live socket (`sockets`, `listen`, --watch)",
                             kSocketTable,     nullptr,
                             socket_table_row};
const RecordKind kProcessShareKind{"process_share", kShareFields,
                                   "a process and how many of the sockets in question it holds", {},
                                   share_text};
const RecordKind kDestinationKind{"destination", kDestinationFields,
                                  "ephemeral-port use toward one destination (`ephemeral`)",
                                  kDestinationTable};
const RecordKind kBindPoolKind{"bind_pool", kBindPoolFields,
                               "the pool bind(port 0) draws from (`ephemeral`)"};

}  // namespace sockscope::output
