#include "output/kinds/host.hpp"

#include <fmt/format.h>

#include <optional>
#include <unordered_map>

#include "output/table_store.hpp"
#include "output/text.hpp"
#include "output/writer.hpp"
#include "sockscope/community_id.hpp"
#include "sockscope/process_owners.hpp"

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

const TcpInfo* tcp(const void* r) {
  const SocketDetails* d = rec(r).details.get();
  return d && d->tcp ? &*d->tcp : nullptr;
}
const SocketMemory* memory(const void* r) {
  const SocketDetails* d = rec(r).details.get();
  return d && d->memory ? &*d->memory : nullptr;
}

// A [::] socket that also takes IPv4: ss writes its address as "*".
bool dual_stack(const SocketRecord& r) {
  return r.v6only == false && r.local.address.is_v6() && r.local.address.is_unspecified();
}
// ss's peer column of a socket without one: "0.0.0.0:*", "[::]:*", "*:*".
std::string_view no_peer_text(const SocketRecord& r) {
  if (dual_stack(r)) return "*:*";
  return r.local.address.is_v4() ? "0.0.0.0:*" : "[::]:*";
}

// A process's full command line, read once per pid for this output.
void cmdline_of(int pid, Value& v) {
  thread_local std::unordered_map<int, std::optional<std::string>> cache;
  if (cache.size() > 4096) cache.clear();  // a long --watch: pids are reused
  auto [it, added] = cache.try_emplace(pid);
  if (added) it->second = command_line(pid);
  if (it->second) {
    v.string(*it->second);
  } else {
    v.null();
  }
}

// ss's timer text: "keepalive,119min,0" (print_ms_timer's units).
void timer_text(const SocketRecord& r, std::string& out) {
  out.append(to_string(r.timer));
  out.push_back(',');
  const std::uint32_t ms = r.timer_expires_ms, minutes = ms / 60000;
  std::uint32_t secs = ms / 1000 % 60, msecs = ms % 1000;
  if (minutes) {
    msecs = 0;
    out += fmt::format("{}min", minutes);
    if (minutes > 9) secs = 0;
  }
  if (secs) {
    if (secs > 9) msecs = 0;
    out += fmt::format("{}{}", secs, msecs ? "." : "sec");
  }
  if (msecs) out += fmt::format("{:03}ms", msecs);
  if (!minutes && !secs && !msecs) out.push_back('0');
  out += fmt::format(",{}", r.timer_retrans);
}

// ss's rate text: bits per second, "1.2Gbps".
std::string rate_text(std::uint64_t bytes_per_second) {
  const double bits = double(bytes_per_second) * 8;
  if (bits >= 1e9) return fmt::format("{:.1f}Gbps", bits / 1e9);
  if (bits >= 1e6) return fmt::format("{:.1f}Mbps", bits / 1e6);
  if (bits >= 1e3) return fmt::format("{:.1f}Kbps", bits / 1e3);
  return fmt::format("{}bps", std::uint64_t(bits));
}

template <std::uint32_t TcpInfo::*kField>
void tcp_count(const void* r, Value& v) {
  const TcpInfo* t = tcp(r);
  null_or(v, t, [&] { v.count(t->*kField); });
}
template <std::optional<std::uint64_t> TcpInfo::*kField>
void tcp_count64(const void* r, Value& v) {
  const TcpInfo* t = tcp(r);
  null_or(v, t && (t->*kField).has_value(), [&] { v.count(*(t->*kField)); });
}
template <std::uint32_t SocketMemory::*kField>
void memory_count(const void* r, Value& v) {
  const SocketMemory* m = memory(r);
  null_or(v, m, [&] { v.count(m->*kField); });
}
template <std::uint32_t SocketMemory::*kField>
constexpr Field memory_field(std::string_view name, std::string_view meaning) {
  return {.name = name,
          .type = Type::kCount,
          .unit = Unit::kBytes,
          .meaning = meaning,
          .get = memory_count<kField>,
          .presence = Presence::kNullable};
}

// A process holding a socket, from the scan (ProcessOwner) or copied (SocketOwner).
template <class Owner>
constexpr Field kProcessFields[] = {
    {.name = "pid",
     .type = Type::kInteger,
     .meaning = "process id",
     .get = [](const void* r, Value& v) { v.integer(as<Owner>(r).pid); }},
    {.name = "command",
     .meaning = "the command (/proc/PID/comm, 15 characters at most)",
     .get = [](const void* r, Value& v) { v.string(as<Owner>(r).command); }},
    {.name = "fd",
     .type = Type::kInteger,
     .meaning = "the descriptor holding the socket; null when not known (--watch: a socket "
                "whose process the connection log named after its descriptor was gone)",
     .get =
         [](const void* r, Value& v) {
           const int fd = as<Owner>(r).fd;
           null_or(v, fd >= 0, [&] { v.integer(fd); });
         },
     .presence = Presence::kNullable},
    {.name = "cmdline",
     .meaning = "the full command line (/proc/PID/cmdline, arguments joined by blanks); "
                "null when unreadable",
     .get = [](const void* r, Value& v) { cmdline_of(as<Owner>(r).pid, v); },
     .presence = Presence::kNullable},
};

template <class Owner>
void process_text(const void* r, std::string& out) {
  const auto& o = as<Owner>(r);
  append_owner(out, o.command, o.pid);
  if (o.fd < 0) return;  // not known
  out += ":fd";
  out += fmt::format_int(o.fd).c_str();
}

constexpr Field kSocketFields[] = {
    {.name = "mark",
     .header = " ",
     .meaning = "--watch: + appeared, - disappeared",
     .get =
         [](const void* r, Value& v) {
           const std::string_view e = sock(r).event;
           v.string(e == "appeared" ? "+" : e == "disappeared" ? "-" : "");
         },
     .presence = Presence::kDisplay},
    {.name = "event",
     .meaning = "--watch: appeared or disappeared",
     .get = [](const void* r, Value& v) { v.string_or_null(sock(r).event); },
     .presence = Presence::kOptional},
    {.name = "new_listener",
     .type = Type::kBool,
     .meaning = "--watch: a listener that appeared (unexplained open ports are a concern)",
     .get = [](const void* r, Value& v) { v.boolean(sock(r).new_listener); },
     .presence = Presence::kSparse},
    {.name = "transport",
     .header = "NETID",
     .meaning = "tcp, udp, sctp or dccp",
     .get = [](const void* r, Value& v) { v.string(to_string(rec(r).transport)); }},
    {.name = "state",
     .header = "STATE",
     .meaning = "ss's state name: ESTAB, LISTEN, TIME-WAIT, ...",
     .get = [](const void* r, Value& v) { v.string(to_string(rec(r).state)); }},
    {.name = "local",
     .type = Type::kEndpoint,
     .meaning = "this host's socket (a link-local address carries its interface as zone)",
     .get = [](const void* r, Value& v) { v.endpoint(rec(r).local); }},
    {.name = "local_shown",
     .header = "LOCAL",
     .meaning = "the local socket; *:PORT for a [::] socket that also takes IPv4, as in ss",
     .get =
         [](const void* r, Value& v) {
           if (!dual_stack(rec(r))) return v.endpoint(rec(r).local);
           v.joined({"*:", fmt::format_int(rec(r).local.port).c_str()});
         },
     .presence = Presence::kDisplay},
    {.name = "remote",
     .type = Type::kEndpoint,
     .meaning = "the peer's socket; null without a peer (listeners, unconnected UDP)",
     .get = [](const void* r,
               Value& v) { null_or(v, !rec(r).unconnected(), [&] { v.endpoint(rec(r).remote); }); },
     .presence = Presence::kNullable},
    {.name = "remote_shown",
     .header = "PEER",
     .meaning = "the peer; ADDRESS:* without one",
     .get =
         [](const void* r, Value& v) {
           if (rec(r).unconnected()) return v.string(no_peer_text(rec(r)));
           v.endpoint(rec(r).remote);
         },
     .presence = Presence::kDisplay},
    {.name = "role",
     .meaning = "the local side: listener, server, client or unknown",
     .get = [](const void* r, Value& v) { v.string(to_string(sock(r).row.socket.role)); }},
    {.name = "role_evidence",
     .meaning = "listener, accepted, autobound, well-known-port, registered-vs-ephemeral, "
                "lower-port-guess",
     .get = [](const void* r, Value& v) { v.string(to_string(sock(r).row.socket.evidence)); }},
    {.name = "role_shown",
     .header = "ROLE",
     .meaning = "the role with its evidence",
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
    {.name = "service",
     .header = "SERVICE",
     .meaning = "the registry's name for the server side's port (a hint), or null",
     .get =
         [](const void* r, Value& v) {
           const Service* s = sock(r).row.service;
           null_or(v, s, [&] { v.string(s->name); });
         },
     .presence = Presence::kNullable},
    {.name = "recv_q",
     .type = Type::kCount,
     .header = "RECV-Q",
     .meaning = "bytes not yet read; listeners: connections waiting to be accepted",
     .get = [](const void* r, Value& v) { v.count(rec(r).rqueue); }},
    {.name = "send_q",
     .type = Type::kCount,
     .header = "SEND-Q",
     .meaning = "bytes not yet acknowledged; listeners: the accept backlog's maximum",
     .get = [](const void* r, Value& v) { v.count(rec(r).wqueue); }},
    {.name = "uid",
     .type = Type::kCount,
     .meaning = "the socket's owner uid",
     .get = [](const void* r, Value& v) { v.count(rec(r).uid); }},
    {.name = "user",
     .meaning = "-e/-p: the uid's user name; null when it has none",
     .get =
         [](const void* r, Value& v) {
           v.owned(user_name(rec(r).uid));
           if (v.text().empty()) v.null();
         },
     .presence = Presence::kNullable},
    {.name = "user_shown",
     .header = "USER",
     .meaning = "the user name, else the uid",
     .get =
         [](const void* r, Value& v) {
           v.owned(user_name(rec(r).uid));
           if (v.text().empty()) v.owned(std::to_string(rec(r).uid));
         },
     .presence = Presence::kDisplay},
    {.name = "inode",
     .type = Type::kCount,
     .header = "INODE",
     .meaning = "the socket's inode (0: no file)",
     .get = [](const void* r, Value& v) { v.count(rec(r).inode); }},
    {.name = "cookie",
     .type = Type::kCount,
     .header = "COOKIE",
     .meaning = "-e: the kernel's socket cookie (0 from /proc)",
     .get = [](const void* r, Value& v) { v.count(rec(r).cookie); }},
    {.name = "autobound",
     .type = Type::kBool,
     .meaning = "whether the kernel chose the local port; null when the source cannot tell",
     .get =
         [](const void* r, Value& v) {
           const auto& a = rec(r).autobound;
           null_or(v, a.has_value(), [&] { v.boolean(*a); });
         },
     .presence = Presence::kNullable},
    {.name = "v6only",
     .type = Type::kBool,
     .meaning = "IPv6 listeners and unconnected sockets: false when it takes IPv4 too "
                "(IPV6_V6ONLY off); absent when unknown",
     .get =
         [](const void* r, Value& v) {
           const auto& o = rec(r).v6only;
           null_or(v, o.has_value(), [&] { v.boolean(*o); });
         },
     .presence = Presence::kOptional},
    {.name = "community_id",
     .meaning = "Community ID v1 of the pair; null without a peer",
     .get =
         [](const void* r, Value& v) {
           null_or(v, !rec(r).unconnected(),
                   [&] { v.owned(community_id(sock(r).row.socket.pair())); });
         },
     .presence = Presence::kNullable},
    {.name = "netns",
     .header = "NETNS",
     .meaning = "the network namespace: its `ip netns` name, else net:[INODE]",
     .get =
         [](const void* r, Value& v) {
           const NetworkNamespace& ns = sock(r).row.netns;
           if (ns.name.empty()) return v.owned(ns.label());
           v.string(ns.name);
         }},
    {.name = "timer",
     .meaning = "-o: the kernel's pending timer: on, keepalive, timewait, "
                "persist; null when none",
     .get =
         [](const void* r, Value& v) {
           null_or(v, rec(r).timer != SocketTimer::kNone,
                   [&] { v.string(to_string(rec(r).timer)); });
         },
     .presence = Presence::kNullable},
    {.name = "timer_expires_ms",
     .type = Type::kCount,
     .unit = Unit::kMilliseconds,
     .meaning = "-o: when it fires, from now",
     .get =
         [](const void* r, Value& v) {
           null_or(v, rec(r).timer != SocketTimer::kNone,
                   [&] { v.count(rec(r).timer_expires_ms); });
         },
     .presence = Presence::kNullable},
    {.name = "timer_retrans",
     .type = Type::kCount,
     .meaning = "-o: retransmissions (or probes) so far",
     .get =
         [](const void* r, Value& v) {
           null_or(v, rec(r).timer != SocketTimer::kNone, [&] { v.count(rec(r).timer_retrans); });
         },
     .presence = Presence::kNullable},
    {.name = "timer_shown",
     .header = "TIMER",
     .meaning = "as ss -o: keepalive,119min,0",
     .get =
         [](const void* r, Value& v) {
           if (rec(r).timer == SocketTimer::kNone) return v.string("-");
           std::string text;
           timer_text(rec(r), text);
           v.owned(std::move(text));
         },
     .presence = Presence::kDisplay},
    {.name = "rtt_us",
     .type = Type::kCount,
     .unit = Unit::kMicroseconds,
     .meaning = "-i: TCP's smoothed round-trip time (tcp_info)",
     .get = tcp_count<&TcpInfo::rtt_us>,
     .presence = Presence::kNullable},
    {.name = "rttvar_us",
     .type = Type::kCount,
     .unit = Unit::kMicroseconds,
     .meaning = "-i: its mean deviation",
     .get = tcp_count<&TcpInfo::rttvar_us>,
     .presence = Presence::kNullable},
    {.name = "rtt_shown",
     .header = "RTT",
     .meaning = "rtt/rttvar in ms, as ss -i",
     .get =
         [](const void* r, Value& v) {
           const TcpInfo* t = tcp(r);
           if (!t) return v.string("-");
           v.owned(fmt::format("{:.3f}/{:.3f}", t->rtt_us / 1000.0, t->rttvar_us / 1000.0));
         },
     .presence = Presence::kDisplay},
    {.name = "cwnd",
     .type = Type::kCount,
     .unit = Unit::kSegments,
     .header = "CWND",
     .meaning = "-i: the congestion window",
     .get = tcp_count<&TcpInfo::cwnd>,
     .presence = Presence::kNullable},
    {.name = "retransmits",
     .type = Type::kCount,
     .unit = Unit::kSegments,
     .header = "RETRANS",
     .meaning = "-i: segments retransmitted over the connection's life (tcpi_total_retrans)",
     .get = tcp_count<&TcpInfo::retransmits>,
     .presence = Presence::kNullable},
    {.name = "bytes_acked",
     .type = Type::kCount,
     .unit = Unit::kBytes,
     .header = "ACKED",
     .meaning = "-i: bytes the peer acknowledged",
     .get = tcp_count64<&TcpInfo::bytes_acked>,
     .presence = Presence::kNullable},
    {.name = "bytes_received",
     .type = Type::kCount,
     .unit = Unit::kBytes,
     .header = "RECEIVED",
     .meaning = "-i: bytes received",
     .get = tcp_count64<&TcpInfo::bytes_received>,
     .presence = Presence::kNullable},
    {.name = "delivery_rate",
     .type = Type::kCount,
     .unit = Unit::kBytesPerSecond,
     .meaning = "-i: the recent delivery rate",
     .get = tcp_count64<&TcpInfo::delivery_rate>,
     .presence = Presence::kNullable},
    {.name = "delivery_shown",
     .header = "DELIVERY",
     .meaning = "in bits per second, as ss -i",
     .get =
         [](const void* r, Value& v) {
           const TcpInfo* t = tcp(r);
           if (!t || !t->delivery_rate) return v.string("-");
           v.owned(rate_text(*t->delivery_rate));
         },
     .presence = Presence::kDisplay},
    memory_field<&SocketMemory::rmem_alloc>("skmem_rmem_alloc", "-m: receive queue memory"),
    memory_field<&SocketMemory::rcvbuf>("skmem_rcvbuf", "-m: receive buffer size"),
    memory_field<&SocketMemory::wmem_alloc>("skmem_wmem_alloc", "-m: send memory in flight"),
    memory_field<&SocketMemory::sndbuf>("skmem_sndbuf", "-m: send buffer size"),
    memory_field<&SocketMemory::fwd_alloc>("skmem_fwd_alloc", "-m: memory reserved ahead"),
    memory_field<&SocketMemory::wmem_queued>("skmem_wmem_queued", "-m: send queue memory"),
    memory_field<&SocketMemory::optmem>("skmem_optmem", "-m: option memory"),
    memory_field<&SocketMemory::backlog>("skmem_backlog", "-m: backlog queue memory"),
    {.name = "skmem_drops",
     .type = Type::kCount,
     .unit = Unit::kPackets,
     .meaning = "-m: packets dropped before the socket",
     .get = memory_count<&SocketMemory::drops>,
     .presence = Presence::kNullable},
    {.name = "skmem_shown",
     .header = "SKMEM",
     .meaning = "as ss -m: r,rb,t,tb,f,w,o,bl,d",
     .get =
         [](const void* r, Value& v) {
           const SocketMemory* m = memory(r);
           if (!m) return v.string("-");
           v.owned(fmt::format("r{},rb{},t{},tb{},f{},w{},o{},bl{},d{}", m->rmem_alloc, m->rcvbuf,
                               m->wmem_alloc, m->sndbuf, m->fwd_alloc, m->wmem_queued, m->optmem,
                               m->backlog, m->drops));
         },
     .presence = Presence::kDisplay},
    {.name = "processes",
     .type = Type::kRecords,
     .meaning = "with -p: the processes holding the socket [{pid, command, fd, cmdline}]",
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
    {.name = "owner_missing_reason",
     .meaning = "the reason in one human sentence",
     .get =
         [](const void* r, Value& v) {
           const HostRow& row = sock(r).row;
           null_or(v, row.owners_known && row.owners.empty(),
                   [&] { v.string(explain(row.owner_missing)); });
         },
     .presence = Presence::kOptional},
    {.name = "owners_shown",
     .header = "PROCESS",
     .meaning = "owners, or (why none)",
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
    {.name = "change",
     .header = "CHANGE",
     .meaning = "--watch: what happened",
     .get = [](const void* r,
               Value& v) { v.string(sock(r).new_listener ? "NEW LISTENER" : sock(r).event); },
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
  const TextScan scan = scan_text(s);
  if (scan.control) {
    out.cell(terminal_safe(s));
  } else {
    out.put(s);
    out.end_cell_of_width(scan.width);
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
  // command[pid]:fdN, written in place: only the command comes from outside (the
  // rest is ASCII), so the cell's width is the command's plus the digits'.
  std::size_t width = row.owners.size() - 1;  // the commas
  for (std::size_t i = 0; i < row.owners.size(); ++i) {
    const ProcessOwner& o = row.owners[i];
    if (i) out.put(",");
    const TextScan scan = scan_text(o.command);
    if (scan.control) {
      const std::string safe = terminal_safe(o.command);
      out.put(safe);
      width += display_width(safe);
    } else {
      out.put(o.command);
      width += scan.width;
    }
    const fmt::format_int pid(o.pid), fd(o.fd);
    out.put("[");
    out.put(std::string_view(pid.data(), pid.size()));
    out.put("]:fd");
    out.put(std::string_view(fd.data(), fd.size()));
    width += 1 + pid.size() + 4 + fd.size();
  }
  out.end_cell_of_width(width);
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
      case socket_field("local_shown"):
        if (dual_stack(rec)) {
          out.put("*:");
          out.put(fmt::format_int(rec.local.port).c_str());
          out.end_ascii_cell();
        } else {
          endpoint_cell(out, rec.local);
        }
        break;
      case socket_field("remote_shown"):
        if (rec.unconnected()) {
          out.ascii_cell(no_peer_text(rec));
        } else {
          endpoint_cell(out, rec.remote);
        }
        break;
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
      case socket_field("user_shown"): {
        const std::string name = user_name(rec.uid);
        name.empty() ? number_cell(out, rec.uid) : append_text(out, name);
        break;
      }
      default: table_cell(*f, r, out); break;
    }
  }
}

constexpr std::string_view kSocketTable[] = {
    "mark",           "transport",      "state",       "recv_q",       "send_q",      "local_shown",
    "remote_shown",   "role_shown",     "service",     "netns",        "user_shown",  "inode",
    "cookie",         "timer_shown",    "rtt_shown",   "cwnd",         "retransmits", "bytes_acked",
    "bytes_received", "delivery_shown", "skmem_shown", "owners_shown", "change"};

// sockets -s.
const TransportCount& tcount(const void* r) { return as<TransportSummaryRow>(r).count; }

constexpr Field kTransportSummaryFields[] = {
    {.name = "kind",
     .meaning = "\"transport\"",
     .get = [](const void*, Value& v) { v.string("transport"); }},
    {.name = "transport",
     .header = "TRANSPORT",
     .meaning = "tcp, udp, sctp or dccp",
     .get = [](const void* r, Value& v) { v.string(to_string(tcount(r).transport)); }},
    {.name = "total",
     .type = Type::kCount,
     .unit = Unit::kSockets,
     .header = "TOTAL",
     .meaning = "sockets the dump shows",
     .get = [](const void* r, Value& v) { v.count(tcount(r).ipv4 + tcount(r).ipv6); }},
    {.name = "ipv4",
     .type = Type::kCount,
     .unit = Unit::kSockets,
     .header = "IPV4",
     .meaning = "of them IPv4 sockets",
     .get = [](const void* r, Value& v) { v.count(tcount(r).ipv4); }},
    {.name = "ipv6",
     .type = Type::kCount,
     .unit = Unit::kSockets,
     .header = "IPV6",
     .meaning = "of them IPv6 sockets (IPv4-mapped included)",
     .get = [](const void* r, Value& v) { v.count(tcount(r).ipv6); }},
    {.name = "states",
     .type = Type::kCounts,
     .unit = Unit::kSockets,
     .header = "STATES",
     .meaning = "by state {\"ESTAB\": n, ...}",
     .get = [](const void* r, Value& v) { v.counts(as<TransportSummaryRow>(r).states); }},
};

template <std::optional<std::uint64_t> KernelSocketCounts::*kField>
void kernel_count(const void* r, Value& v) {
  const auto& n = as<KernelSocketCounts>(r).*kField;
  null_or(v, n.has_value(), [&] { v.count(*n); });
}
template <std::optional<std::uint64_t> KernelSocketCounts::*kField>
constexpr Field kernel_field(std::string_view name, std::string_view meaning,
                             Unit unit = Unit::kSockets) {
  return {.name = name,
          .type = Type::kCount,
          .unit = unit,
          .meaning = meaning,
          .get = kernel_count<kField>,
          .presence = Presence::kNullable};
}

constexpr Field kKernelSocketsFields[] = {
    {.name = "kind",
     .meaning = "\"kernel\"",
     .get = [](const void*, Value& v) { v.string("kernel"); }},
    kernel_field<&KernelSocketCounts::sockets_used>("sockets_used",
                                                    "sockets of every family (unix too)"),
    kernel_field<&KernelSocketCounts::tcp_inuse>("tcp_inuse", "TCP over IPv4, TIME-WAIT apart"),
    kernel_field<&KernelSocketCounts::tcp6_inuse>("tcp6_inuse", "TCP over IPv6"),
    kernel_field<&KernelSocketCounts::tcp_orphan>("tcp_orphan",
                                                  "TCP sockets no process holds any more"),
    kernel_field<&KernelSocketCounts::tcp_time_wait>("tcp_time_wait", "TIME-WAIT"),
    kernel_field<&KernelSocketCounts::tcp_alloc>("tcp_alloc", "TCP sockets allocated"),
    kernel_field<&KernelSocketCounts::tcp_memory_pages>("tcp_memory_pages",
                                                        "TCP buffer memory, pages", Unit::kNone),
    kernel_field<&KernelSocketCounts::udp_inuse>("udp_inuse", "UDP over IPv4"),
    kernel_field<&KernelSocketCounts::udp6_inuse>("udp6_inuse", "UDP over IPv6"),
    kernel_field<&KernelSocketCounts::udp_memory_pages>("udp_memory_pages",
                                                        "UDP buffer memory, pages", Unit::kNone),
    kernel_field<&KernelSocketCounts::raw_inuse>("raw_inuse", "raw IPv4 sockets"),
    kernel_field<&KernelSocketCounts::raw6_inuse>("raw6_inuse", "raw IPv6 sockets"),
    kernel_field<&KernelSocketCounts::frag_inuse>("frag_inuse", "IPv4 reassembly queues"),
    kernel_field<&KernelSocketCounts::frag6_inuse>("frag6_inuse", "IPv6 reassembly queues"),
};

// Ephemeral ports.
const DestinationUsage& dest(const void* r) { return as<DestinationRow>(r).destination; }

// --all-netns: the namespace a destination or bind pool is counted in.
void netns_value(const NetworkNamespace* ns, Value& v) {
  if (!ns) return v.string("");
  if (ns->name.empty()) return v.owned(ns->label());
  v.string(ns->name);
}
constexpr std::string_view kEphemeralNetnsMeaning =
    "--all-netns: the network namespace (its `ip netns` name, else net:[INODE]), whose "
    "own range and sockets these are";

constexpr Field kShareFields[] = {
    {.name = "pid",
     .type = Type::kInteger,
     .meaning = "process id",
     .get = [](const void* r, Value& v) { v.integer(as<ProcessShare>(r).pid); }},
    {.name = "command",
     .meaning = "the command",
     .get = [](const void* r, Value& v) { v.string(as<ProcessShare>(r).command); }},
    {.name = "sockets",
     .type = Type::kCount,
     .unit = Unit::kSockets,
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
    {.name = "kind",
     .meaning = "\"destination\"",
     .get = [](const void*, Value& v) { v.string("destination"); }},
    {.name = "transport",
     .header = "PROTO",
     .meaning = "tcp or udp",
     .get = [](const void* r, Value& v) { v.string(to_string(dest(r).transport)); }},
    {.name = "local_address",
     .type = Type::kAddress,
     .header = "LOCAL",
     .meaning = "the local address the ports are taken on",
     .get = [](const void* r, Value& v) { v.owned(dest(r).local_address.to_string()); }},
    {.name = "remote",
     .type = Type::kEndpoint,
     .meaning = "the destination; null for UDP (ports are per local address)",
     .get =
         [](const void* r, Value& v) {
           null_or(v, dest(r).transport != Transport::kUdp, [&] { v.endpoint(dest(r).remote); });
         },
     .presence = Presence::kNullable},
    {.name = "destination",
     .header = "DESTINATION",
     .meaning = "the destination",
     .get =
         [](const void* r, Value& v) {
           if (dest(r).transport == Transport::kUdp) return v.string("(any, per local address)");
           v.owned(dest(r).remote.to_string());
         },
     .presence = Presence::kDisplay},
    {.name = "used",
     .type = Type::kCount,
     .unit = Unit::kPorts,
     .header = "USED",
     .meaning = "ports of the pool taken toward it (TIME_WAIT included)",
     .get = [](const void* r, Value& v) { v.count(dest(r).used); }},
    {.name = "capacity",
     .type = Type::kCount,
     .unit = Unit::kPorts,
     .header = "CAPACITY",
     .meaning = "usable ports minus those held by bind()",
     .get = [](const void* r, Value& v) { v.count(dest(r).capacity); }},
    {.name = "time_wait",
     .type = Type::kCount,
     .unit = Unit::kPorts,
     .header = "TIME_WAIT",
     .meaning = "of the used ports, in TIME_WAIT",
     .get = [](const void* r, Value& v) { v.count(dest(r).time_wait); }},
    {.name = "utilization_pct",
     .type = Type::kNumber,
     .unit = Unit::kPercent,
     .header = "USE%",
     .meaning = "used / capacity, in percent",
     .get = [](const void* r, Value& v) { v.number(dest(r).utilization() * 100.0); }},
    {.name = "processes",
     .type = Type::kRecords,
     .meaning =
         "who holds the ports [{pid, command, sockets}], most first; null when not looked up",
     .get =
         [](const void* r, Value& v) {
           const auto* p = as<DestinationRow>(r).processes;
           null_or(v, p, [&] { v.records(kProcessShareKind, std::span<const ProcessShare>(*p)); });
         },
     .presence = Presence::kNullable},
    {.name = "processes_shown",
     .header = "PROCESSES",
     .meaning = "the top three",
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
    {.name = "netns",
     .header = "NETNS",
     .meaning = kEphemeralNetnsMeaning,
     .get = [](const void* r, Value& v) { netns_value(as<DestinationRow>(r).netns, v); }},
};

constexpr std::string_view kDestinationTable[] = {"transport", "local_address",  "destination",
                                                  "used",      "capacity",       "utilization_pct",
                                                  "time_wait", "processes_shown"};

const EphemeralReport& pool(const void* r) { return as<BindPoolRow>(r).report; }

constexpr Field kBindPoolFields[] = {
    {.name = "kind",
     .meaning = "\"bind_pool\"",
     .get = [](const void*, Value& v) { v.string("bind_pool"); }},
    {.name = "used",
     .type = Type::kCount,
     .unit = Unit::kPorts,
     .meaning = "usable ports some TCP socket uses",
     .get = [](const void* r, Value& v) { v.count(pool(r).bind_pool.used); }},
    {.name = "capacity",
     .type = Type::kCount,
     .unit = Unit::kPorts,
     .meaning = "usable ports",
     .get = [](const void* r, Value& v) { v.count(pool(r).bind_pool.capacity); }},
    {.name = "free",
     .type = Type::kCount,
     .unit = Unit::kPorts,
     .meaning = "what bind(port 0) has left",
     .get = [](const void* r, Value& v) { v.count(pool(r).bind_pool.free()); }},
    {.name = "utilization_pct",
     .type = Type::kNumber,
     .unit = Unit::kPercent,
     .meaning = "used / capacity, in percent",
     .get = [](const void* r, Value& v) { v.number(pool(r).bind_pool.utilization() * 100.0); }},
    {.name = "bind_held",
     .type = Type::kCount,
     .unit = Unit::kPorts,
     .meaning = "usable ports held by explicit bind() (never lent to connect())",
     .get = [](const void* r, Value& v) { v.count(pool(r).bind_held); }},
    {.name = "range",
     .meaning = "net.ipv4.ip_local_port_range as first-last",
     .get = [](const void* r, Value& v) { v.owned(pool(r).settings.range.to_string()); }},
    {.name = "reserved",
     .meaning = "net.ipv4.ip_local_reserved_ports as the sysctl prints it",
     .get = [](const void* r, Value& v) { v.string(pool(r).settings.reserved_text); }},
    {.name = "netns",
     .meaning = kEphemeralNetnsMeaning,
     .get = [](const void* r, Value& v) { netns_value(as<BindPoolRow>(r).netns, v); }},
};

}  // namespace

TransportSummaryRow::TransportSummaryRow(const TransportCount& c) : count(c) {
  for (const auto& [state, n] : c.states.nonzero()) states.push_back({to_string(state), n});
}

const RecordKind kProcessKind{"process",
                              kProcessFields<ProcessOwner>,
                              "a process holding a socket",
                              {},
                              process_text<ProcessOwner>};
const RecordKind kSocketOwnerKind{"process",
                                  kProcessFields<SocketOwner>,
                                  "a process holding a socket",
                                  {},
                                  process_text<SocketOwner>};
const RecordKind kSocketKind{
    "socket",     kSocketFields, "one live socket (`sockets`, `listen`, --watch)",
    kSocketTable, nullptr,       socket_table_row};
const RecordKind kTransportSummaryKind{"transport_summary", kTransportSummaryFields,
                                       "sockets of one transport (`sockets -s`)"};
const RecordKind kKernelSocketsKind{"kernel_sockets", kKernelSocketsFields,
                                    "the kernel's socket counters (`sockets -s`)"};
const RecordKind kProcessShareKind{"process_share",
                                   kShareFields,
                                   "a process and how many of the sockets in question it holds",
                                   {},
                                   share_text};
const RecordKind kDestinationKind{"destination", kDestinationFields,
                                  "ephemeral-port use toward one destination (`ephemeral`)",
                                  kDestinationTable};
const RecordKind kBindPoolKind{"bind_pool", kBindPoolFields,
                               "the pool bind(port 0) draws from (`ephemeral`)"};

// The socket fields an output leaves out: the --watch ones outside --watch, the
// owners without -p, the namespace column of a table of one namespace.
std::vector<std::string_view> hidden_socket_fields(const SocketColumns& o) {
  std::vector<std::string_view> hidden;
  if (!o.watch) hidden.insert(hidden.end(), {"mark", "event", "new_listener", "change"});
  if (!o.processes) {
    hidden.insert(hidden.end(),
                  {"processes", "owner_missing", "owner_missing_reason", "owners_shown"});
  }
  if (o.human && !o.all_netns) hidden.push_back("netns");
  if (o.numeric) hidden.push_back("service");
  // ss's letters add what they name; JSON and CSV always had uid and inode.
  if (!o.extended && !o.processes) hidden.insert(hidden.end(), {"user", "user_shown"});
  if (!o.extended) hidden.push_back("cookie");
  if (!o.extended && o.human) hidden.push_back("inode");
  if (!o.timers) {
    hidden.insert(hidden.end(), {"timer", "timer_expires_ms", "timer_retrans", "timer_shown"});
  }
  if (!o.info) {
    hidden.insert(hidden.end(),
                  {"rtt_us", "rttvar_us", "rtt_shown", "cwnd", "retransmits", "bytes_acked",
                   "bytes_received", "delivery_rate", "delivery_shown"});
  }
  if (!o.memory) {
    hidden.insert(hidden.end(), {"skmem_rmem_alloc", "skmem_rcvbuf", "skmem_wmem_alloc",
                                 "skmem_sndbuf", "skmem_fwd_alloc", "skmem_wmem_queued",
                                 "skmem_optmem", "skmem_backlog", "skmem_drops", "skmem_shown"});
  }
  return hidden;
}

}  // namespace sockscope::output
