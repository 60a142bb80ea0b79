// `sockscope ephemeral`: ephemeral-port use per destination, exhaustion warnings.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>

#include "cli/context.hpp"
#include "cli/host_filter.hpp"
#include "output/kinds/host.hpp"
#include "serve/metrics.hpp"
#include "sockscope/ephemeral.hpp"
#include "sockscope/netns.hpp"
#include "sockscope/process_owners.hpp"

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
// for, or when a shown destination is at the warning level: then "who holds these
// ports" is the question.
constexpr double kWarnUtilization = 0.8;

int percent(double utilization) { return int(utilization * 100.0 + 1e-9); }

void write_settings(Context& ctx, output::RecordWriter& out, const EphemeralReport& r,
                    const NetworkNamespace* ns) {
  const auto& s = r.settings;
  const PortRange iana = EphemeralRange::iana().range;
  const output::Style& st = ctx.style;
  out.note(fmt::format("{}ephemeral ports in {}{}", st.bold(),
                       ns ? "network namespace " + ns->label() + (ns->current ? " (this one)" : "")
                          : std::string("this network namespace"),
                       st.reset()));
  out.note(fmt::format("  range in force   {} ({} ports, net.ipv4.ip_local_port_range)",
                       s.range.to_string(), s.range.size()));
  out.note(fmt::format("  IANA dynamic     {} ({} ports){}", iana.to_string(), iana.size(),
                       s.range == iana ? "" : ": not the range this host uses"));
  out.note(fmt::format("  reserved         {} (net.ipv4.ip_local_reserved_ports)",
                       s.reserved_text.empty() ? "none" : s.reserved_text));
  out.note(
      fmt::format("  usable           {} ports for connect(); {} held by explicit bind() "
                  "(never lent to connect())",
                  s.usable(), r.bind_held));
  if (s.tcp_tw_reuse >= 0) {
    static constexpr std::string_view kReuse[] = {"off", "on", "loopback only"};
    out.note(fmt::format("  tcp_tw_reuse     {} ({})", s.tcp_tw_reuse,
                         s.tcp_tw_reuse < 3 ? kReuse[s.tcp_tw_reuse] : "?"));
  }
  out.note(fmt::format("  bind(0) pool     {} of {} usable ports taken, {} free\n",
                       r.bind_pool.used, r.bind_pool.capacity, r.bind_pool.free()));
}

std::string destination_text(const DestinationUsage& d) {
  return fmt::format(
      "{} {} -> {}", to_string(d.transport), d.local_address.to_string(),
      d.transport == Transport::kUdp ? "(any, per local address)" : d.remote.to_string());
}

// Warning and error lines for full destinations and the bind(0) pool, on stderr
// as every command's warnings are (a table on stdout stays a table).
void write_warnings(Context& ctx, const EphemeralReport& report, const std::string& where) {
  for (const auto& d : report.destinations) {
    const int pct = percent(d.utilization());
    if (pct < 80) break;
    const std::string what = where + destination_text(d);
    if (!d.exhausted()) {
      ctx.warn(fmt::format("{} is {}% used ({} of {} ports)", what, pct, d.used, d.capacity));
      continue;
    }
    const bool tcp = d.transport == Transport::kTcp;
    ctx.error(
        fmt::format("{} uses all {} ports: {} will fail with {}{}", what, d.capacity,
                    tcp ? "connect() to this destination" : "binding a new port on this address",
                    tcp ? "EADDRNOTAVAIL" : "EADDRINUSE",
                    d.time_wait && report.settings.tcp_tw_reuse > 0
                        ? " (unless a TIME_WAIT pair can be reused, tcp_tw_reuse)"
                        : ""));
  }
  if (report.bind_pool.free() == 0) {
    ctx.error(where +
              "the bind(0) pool is empty: bind() to port 0 will fail with EADDRINUSE (connect() "
              "without bind() may still find ports per destination)");
  } else if (percent(report.bind_pool.utilization()) >= 80) {
    ctx.warn(where +
             fmt::format("the bind(0) pool is {}% used", percent(report.bind_pool.utilization())));
  }
}

// --threshold: whether anything reached it; each that did is named on stderr.
bool threshold_crossed(Context& ctx, const EphemeralReport& report, double threshold,
                       const std::string& where) {
  if (threshold < 0) return false;
  constexpr std::size_t kNamed = 10;
  std::size_t crossed = 0;
  for (const auto& d : report.destinations) {
    const double pct = d.utilization() * 100.0;
    if (pct < threshold) continue;  // fullest first, but keep counting ties
    if (++crossed <= kNamed) {
      ctx.error(fmt::format("threshold {}% reached: {}{} is {}% used ({} of {} ports)", threshold,
                            where, destination_text(d), percent(d.utilization()), d.used,
                            d.capacity));
    }
  }
  if (crossed > kNamed) {
    ctx.error(fmt::format("{}threshold reached by {} more", where, crossed - kNamed));
  }
  if (report.bind_pool.utilization() * 100.0 >= threshold) {
    ++crossed;
    ctx.error(fmt::format("threshold {}% reached: {}the bind(0) pool is {}% used ({} of {} ports)",
                          threshold, where, percent(report.bind_pool.utilization()),
                          report.bind_pool.used, report.bind_pool.capacity));
  }
  return crossed > 0;
}

// One namespace's scan and the owners of its shown destinations.
struct Scanned {
  NetworkNamespace netns;
  EphemeralScan scan;
  std::size_t rows = 0;
  std::vector<std::vector<ProcessShare>> shares;
};

// This namespace, or with --all-netns every one (those that cannot be entered or
// read are said and skipped). Empty after an error line.
std::optional<std::vector<Scanned>> scan_namespaces(Context& ctx, std::size_t keep) {
  std::vector<Scanned> out;
  if (!ctx.all_netns) {
    auto scan = scan_ephemeral(keep, ctx.reporter());
    if (!scan) {
      ctx.error("ephemeral: " + scan.error().what());
      return std::nullopt;
    }
    out.push_back({current_network_namespace(), std::move(*scan)});
    return out;
  }
  std::vector<Error> warnings;
  const auto namespaces = list_network_namespaces(&warnings);
  for (const Error& w : warnings) ctx.warn(w.what());
  for (const NetworkNamespace& ns : namespaces) {
    auto scan = scan_ephemeral_in(ns, keep, ctx.reporter());
    if (!scan) {
      ctx.warn("ephemeral: " + scan.error().what());
      continue;
    }
    out.push_back({ns, std::move(*scan)});
  }
  if (out.empty()) {
    ctx.error("ephemeral: no network namespace could be read");
    return std::nullopt;
  }
  return out;
}

int run_ephemeral(Context& ctx, const EphemeralOptions& opt) {
  if (ctx.prometheus) return write_prometheus(ctx, serve::kEphemeralFamilies, false);
  auto owners_from = owner_source_option(ctx, opt.owners_from);
  if (!owners_from) return kExitUsage;
  const std::size_t shown = opt.all ? SIZE_MAX : opt.top;
  auto scanned = scan_namespaces(ctx, std::min<std::size_t>(shown, 1000));
  if (!scanned) return kExitRuntime;
  bool need_owners = opt.processes;
  for (Scanned& n : *scanned) {
    const EphemeralReport& report = n.scan.report;
    n.rows = std::min(shown, report.destinations.size());
    for (std::size_t i = 0; i < n.rows; ++i) {
      if (report.destinations[i].utilization() >= kWarnUtilization) need_owners = true;
    }
  }
  // One walk over the processes serves every namespace: inodes are host-wide.
  std::optional<ProcessOwners> owners;
  if (need_owners) {
    auto found = ProcessOwners::scan(*owners_from);
    if (!found) {
      ctx.error(found.error().what());
      return kExitRuntime;
    }
    owners = std::move(*found);
    if (!owners->bpf_unused().empty() && *owners_from == OwnerSource::kAuto && ::geteuid() == 0) {
      ctx.warn("owners from /proc (slower): no BPF iterator: " + owners->bpf_unused());
    }
    for (Scanned& n : *scanned) {
      n.shares.resize(n.rows);
      for (std::size_t i = 0; i < n.rows; ++i) {
        n.shares[i] = processes_of(n.scan.report.destinations[i], *owners);
      }
    }
  }

  std::vector<std::string_view> hidden;
  if (!owners) hidden.push_back("processes_shown");
  if (!ctx.all_netns) hidden.push_back("netns");
  auto out = ctx.writer({&output::kDestinationKind, &output::kBindPoolKind}, false, hidden);
  std::vector<std::string> unused;  // --all-netns, text: namespaces without a destination
  bool crossed = false;
  for (const Scanned& n : *scanned) {
    const EphemeralReport& report = n.scan.report;
    const NetworkNamespace* ns = ctx.all_netns ? &n.netns : nullptr;
    if (ctx.human() && ns && report.destinations.empty() && report.bind_pool.used == 0) {
      unused.push_back(n.netns.label());
      continue;
    }
    if (ctx.human()) write_settings(ctx, out, report, ns);
    if (n.rows == 0) out.note("no socket uses a port of the range");
    for (std::size_t i = 0; i < n.rows; ++i) {
      out.write(
          output::kDestinationKind,
          output::DestinationRow{report.destinations[i], owners ? &n.shares[i] : nullptr, ns});
    }
    if (report.destinations.size() > n.rows) {
      out.note(fmt::format("({} more destinations; --all shows them)",
                           report.destinations.size() - n.rows));
    }
    if (!ctx.human()) out.write(output::kBindPoolKind, output::BindPoolRow{report, ns});
    if (ctx.human() && ns) out.note("");
    const std::string where = ns ? "network namespace " + n.netns.label() + ": " : "";
    write_warnings(ctx, report, where);
    crossed |= threshold_crossed(ctx, report, opt.threshold, where);
    if (!report.autobound_known) {
      ctx.warn(where + fmt::format("the socket source ({}) cannot tell which ports bind() chose; "
                                   "accepted sockets were recognised by their listener's port",
                                   n.scan.source));
    }
  }
  if (!unused.empty()) {
    std::string names;
    for (const auto& u : unused) names += (names.empty() ? "" : ", ") + u;
    out.note(fmt::format("no socket uses a port of the range in {} other namespace{}: {}",
                         unused.size(), unused.size() == 1 ? "" : "s", names));
  }
  out.finish();
  if (owners && owners->denied() > 0) {
    ctx.warn(fmt::format("{} processes could not be read (not root): their sockets show no owner",
                         owners->denied()));
  }
  return crossed ? kExitThreshold : kExitOk;
}

}  // namespace

void add_ephemeral_commands(CLI::App& app, Context& ctx) {
  static EphemeralOptions opt;
  auto* cmd =
      app.add_subcommand("ephemeral", "ephemeral-port use per destination, exhaustion warnings");
  cmd->add_option("--threshold", opt.threshold,
                  "exit 4 when a destination (or the bind(0) pool) is at least PCT% used")
      ->type_name("PCT")
      ->transform(percentage());
  cmd->add_option("--top", opt.top, "destinations shown (default 20)")
      ->type_name("N")
      ->check(count_at_least(1));
  cmd->add_flag("--all", opt.all, "show every destination");
  cmd->add_flag("-p,--processes", opt.processes,
                "name the processes holding the ports (automatic at 80% and above)");
  add_owners_from_option(cmd, opt.owners_from);
  ctx.on(cmd, [&ctx] { return run_ephemeral(ctx, opt); });
}

}  // namespace sockscope::cli
