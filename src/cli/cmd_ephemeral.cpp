// `sockscope ephemeral`: ephemeral-port use per destination, exhaustion warnings.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "cli/context.hpp"
#include "cli/host_view.hpp"
#include "sockscope/ephemeral.hpp"
#include "sockscope/process_owners.hpp"
#include "sockscope/socket_table.hpp"

namespace sockscope::cli {
namespace {

struct EphemeralOptions {
  double threshold = -1;  // exit 4 when a destination reaches it
  std::size_t top = 20;
  bool all = false;
  bool processes = false;  // resolve owners even when nothing is near full
  std::string owners_from = "auto";
};

// Owners are looked up (one walk over /proc/*/fd, the expensive part) when asked
// for, or when a shown destination is at the warning level: then "who holds
// these ports" is the question.
constexpr double kWarnUtilization = 0.8;

PortUse to_port_use(const SocketRecord& s) {
  PortUse u;
  u.transport = s.transport;
  u.listening = s.listening();
  u.time_wait = s.state == SocketState::kTimeWait;
  u.local = s.local;
  u.remote = s.remote;
  u.autobound = s.autobound;
  // Request sockets (SYN-RECV) sit on their listener's port: not the kernel's choice.
  if (s.state == SocketState::kSynRecv && !u.autobound) u.autobound = false;
  u.inode = s.inode;
  return u;
}

std::string destination_text(const DestinationUsage& d) {
  if (d.transport == Transport::kUdp) return "(any, per local address)";
  return d.remote.to_string();
}

int percent(double utilization) { return int(utilization * 100.0 + 1e-9); }

// The processes behind a destination's ports, most ports first.
struct ProcessShare {
  int pid;
  std::string command;
  std::uint32_t sockets;
};

std::vector<ProcessShare> processes_of(const DestinationUsage& d, const ProcessOwners& owners) {
  std::map<int, ProcessShare> by_pid;
  for (std::uint64_t inode : d.inodes) {
    for (const ProcessOwner& o : owners.of(inode)) {
      auto [it, inserted] = by_pid.try_emplace(o.pid, ProcessShare{o.pid, std::string(o.command), 0});
      ++it->second.sockets;
    }
  }
  std::vector<ProcessShare> out;
  for (auto& [pid, share] : by_pid) out.push_back(std::move(share));
  std::sort(out.begin(), out.end(), [](const ProcessShare& a, const ProcessShare& b) {
    return a.sockets != b.sockets ? a.sockets > b.sockets : a.pid < b.pid;
  });
  return out;
}

std::string processes_text(const std::vector<ProcessShare>& shares) {
  std::string s;
  for (std::size_t k = 0; k < shares.size() && k < 3; ++k) {
    if (k) s += ", ";
    s += fmt::format("{}[{}] x{}", shares[k].command, shares[k].pid, shares[k].sockets);
  }
  if (shares.size() > 3) s += fmt::format(", +{} more", shares.size() - 3);
  return s;
}

void render_settings(Context& ctx, const EphemeralReport& r) {
  auto out = std::back_inserter(ctx.out.buffer());
  const auto& s = r.settings;
  const PortRange iana = EphemeralRange::iana().range;
  const Style& st = ctx.style;
  fmt::format_to(out, "{}ephemeral ports in this network namespace{}\n", st.bold(), st.reset());
  fmt::format_to(out, "  range in force   {} ({} ports, net.ipv4.ip_local_port_range)\n",
                 s.range.to_string(), s.range.size());
  fmt::format_to(out, "  IANA dynamic     {} ({} ports){}\n", iana.to_string(), iana.size(),
                 s.range == iana ? "" : ": not the range this host uses");
  fmt::format_to(out, "  reserved         {} (net.ipv4.ip_local_reserved_ports)\n",
                 s.reserved_text.empty() ? "none" : s.reserved_text);
  fmt::format_to(out, "  usable           {} ports for connect(); {} held by explicit bind() "
                 "(never lent to connect())\n", s.usable(), r.bind_held);
  if (s.tcp_tw_reuse >= 0) {
    static constexpr std::string_view kReuse[] = {"off", "on", "loopback only"};
    fmt::format_to(out, "  tcp_tw_reuse     {} ({})\n", s.tcp_tw_reuse,
                   s.tcp_tw_reuse < 3 ? kReuse[s.tcp_tw_reuse] : "?");
  }
  fmt::format_to(out, "  bind(0) pool     {} of {} usable ports taken, {} free\n\n",
                 r.bind_pool.used, r.bind_pool.capacity, r.bind_pool.free());
}

int run_ephemeral(Context& ctx, const EphemeralOptions& opt) {
  auto owners_from = owner_source_option(ctx, opt.owners_from);
  if (!owners_from) return kExitUsage;
  auto settings = EphemeralSettings::read();
  if (!settings) {
    ctx.error("ephemeral: " + settings.error().what());
    return kExitRuntime;
  }
  SocketQuery query;
  query.transports = {Transport::kTcp, Transport::kUdp};
  // Streamed straight into the compact form the analysis needs (no socket table).
  std::string why_fallback;
  auto source = open_socket_source(&why_fallback);
  if (!source) {
    ctx.error("ephemeral: cannot read the socket table: " + source.error().what());
    return kExitRuntime;
  }
  if (!why_fallback.empty()) ctx.warn(why_fallback);
  std::vector<PortUse> uses;
  auto dumped = (*source)->dump(query, [&](const SocketRecord& s) { uses.push_back(to_port_use(s)); });
  if (!dumped) {
    ctx.error("ephemeral: cannot read the socket table: " + dumped.error().what());
    return kExitRuntime;
  }
  for (const auto& skipped : dumped->skipped) ctx.warn(skipped.what());
  const std::string source_name((*source)->name());
  const std::size_t shown = opt.all ? SIZE_MAX : opt.top;
  EphemeralReport report = analyze_ephemeral(uses, *settings, std::min<std::size_t>(shown, 1000));


  bool crossed = false;
  auto& buf = ctx.out.buffer();
  std::vector<const DestinationUsage*> rows;
  for (const auto& d : report.destinations) {
    if (rows.size() >= shown) break;
    rows.push_back(&d);
  }
  for (const auto& d : report.destinations) {
    if (opt.threshold >= 0 && d.utilization() * 100.0 >= opt.threshold) crossed = true;
  }
  bool need_owners = opt.processes;
  for (const auto* d : rows) need_owners |= d->utilization() >= kWarnUtilization;
  std::optional<ProcessOwners> owners;
  if (need_owners) {
    owners = scan_owners(ctx, *owners_from);
    if (!owners) return kExitRuntime;
  }

  if (opt.threshold >= 0 && report.bind_pool.utilization() * 100.0 >= opt.threshold) {
    crossed = true;
  }

  if (ctx.format == Format::kJson) {
    for (const auto* d : rows) {
      JsonWriter j(buf);
      j.begin_object().str("kind", "destination").str("transport", to_string(d->transport))
          .str("local_address", d->local_address.to_string());
      if (d->transport == Transport::kUdp) j.null("remote");
      else j.endpoint("remote", d->remote);
      j.num("used", d->used).num("capacity", d->capacity).num("time_wait", d->time_wait)
          .real("utilization_pct", d->utilization() * 100.0, 2);
      if (owners) {
        j.begin_array("processes");
        for (const auto& p : processes_of(*d, *owners)) {
          j.begin_object().num("pid", p.pid).str("command", p.command)
              .num("sockets", p.sockets).end_object();
        }
        j.end_array();
      } else {
        j.null("processes");  // not looked up: see --processes
      }
      j.end_object().end_line();
    }
    JsonWriter(buf).begin_object().str("kind", "bind_pool").num("used", report.bind_pool.used)
        .num("capacity", report.bind_pool.capacity).num("free", report.bind_pool.free())
        .real("utilization_pct", report.bind_pool.utilization() * 100.0, 2)
        .num("bind_held", report.bind_held)
        .str("range", report.settings.range.to_string())
        .str("reserved", report.settings.reserved_text).end_object().end_line();
    return crossed ? kExitThreshold : kExitOk;
  }

  std::vector<std::string> headers = {"PROTO", "LOCAL", "DESTINATION", "USED",
                                      "CAPACITY", "USE%", "TIME_WAIT"};
  if (owners) headers.push_back("PROCESSES");
  Table table_out(std::move(headers), {false, false, false, true, true, true, true, false});
  for (const auto* d : rows) {
    table_out.add_row({std::string(to_string(d->transport)), d->local_address.to_string(),
                       destination_text(*d), std::to_string(d->used), std::to_string(d->capacity),
                       std::to_string(percent(d->utilization())) + "%",
                       std::to_string(d->time_wait),
                       owners ? processes_text(processes_of(*d, *owners)) : std::string()});
  }
  if (ctx.format == Format::kCsv) {
    table_out.render_csv(buf);
    return crossed ? kExitThreshold : kExitOk;
  }
  render_settings(ctx, report);
  if (rows.empty()) {
    fmt::format_to(std::back_inserter(buf), "no socket uses a port of the range\n");
  } else {
    table_out.render(buf, ctx.style);
    if (report.destinations.size() > rows.size()) {
      fmt::format_to(std::back_inserter(buf), "({} more destinations; --all shows them)\n",
                     report.destinations.size() - rows.size());
    }
  }
  // Warnings and errors go with the table (stdout) so they stay next to their rows.
  const Style& st = ctx.style;
  for (const auto& d : report.destinations) {
    int pct = percent(d.utilization());
    if (pct < 80) break;
    std::string what = fmt::format("{} {} -> {}", to_string(d.transport),
                                   d.local_address.to_string(), destination_text(d));
    if (d.exhausted()) {
      fmt::format_to(std::back_inserter(buf),
                     "{}error{}: {} uses all {} ports: {} will fail with {}{}\n", st.red(),
                     st.reset(), what, d.capacity,
                     d.transport == Transport::kTcp ? "connect() to this destination"
                                                    : "binding a new port on this address",
                     d.transport == Transport::kTcp ? "EADDRNOTAVAIL" : "EADDRINUSE",
                     d.time_wait && report.settings.tcp_tw_reuse > 0
                         ? " (unless a TIME_WAIT pair can be reused, tcp_tw_reuse)"
                         : "");
    } else {
      fmt::format_to(std::back_inserter(buf), "{}warning{}: {} is {}% used ({} of {} ports)\n",
                     st.yellow(), st.reset(), what, pct, d.used, d.capacity);
    }
  }
  if (report.bind_pool.free() == 0) {
    fmt::format_to(std::back_inserter(buf),
                   "{}error{}: the bind(0) pool is empty: bind() to port 0 will fail with "
                   "EADDRINUSE (connect() without bind() may still find ports per destination)\n",
                   st.red(), st.reset());
  } else if (percent(report.bind_pool.utilization()) >= 80) {
    fmt::format_to(std::back_inserter(buf), "{}warning{}: the bind(0) pool is {}% used\n",
                   st.yellow(), st.reset(), percent(report.bind_pool.utilization()));
  }
  if (owners && owners->denied() > 0) {
    fmt::format_to(std::back_inserter(buf),
                   "note: {} processes could not be read (not root): their sockets show no owner\n",
                   owners->denied());
  }
  if (!report.autobound_known) {
    fmt::format_to(std::back_inserter(buf),
                   "note: the socket source ({}) cannot tell which ports bind() chose; "
                   "accepted sockets were recognised by their listener's port\n",
                   source_name);
  }
  return crossed ? kExitThreshold : kExitOk;
}

}  // namespace

void add_ephemeral_commands(CLI::App& app, Context& ctx) {
  static EphemeralOptions opt;
  auto* cmd = app.add_subcommand(
      "ephemeral", "ephemeral-port use per destination, exhaustion warnings");
  cmd->add_option("--threshold", opt.threshold,
                  "exit 4 when a destination (or the bind(0) pool) is at least PCT% used")
      ->type_name("PCT")
      ->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--top", opt.top, "destinations shown (default 20)")->type_name("N");
  cmd->add_flag("--all", opt.all, "show every destination");
  cmd->add_flag("-p,--processes", opt.processes,
                "name the processes holding the ports (automatic at 80% and above)");
  add_owners_from_option(cmd, opt.owners_from);
  ctx.on(cmd, [&ctx] { return run_ephemeral(ctx, opt); });
}

}  // namespace sockscope::cli
