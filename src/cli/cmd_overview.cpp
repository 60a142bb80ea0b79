// `sockscope` without a subcommand: what this host serves (listeners with their
// programs, addresses, connections, client hosts and accept queues), whom it talks
// to (remote services with their busiest hosts and the local programs), and where
// it is under pressure; once, or refreshed with --watch.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>

#include "cli/context.hpp"
#include "cli/watch.hpp"
#include "output/kinds/overview.hpp"
#include "serve/metrics.hpp"
#include "sockscope/host_scan.hpp"
#include "sockscope/netns.hpp"
#include "sockscope/overview.hpp"

namespace sockscope::cli {
namespace {

// Tables list every listener, but served ports without a listener and remote
// services only the busiest kLimit, so the overview fits a screen on busy hosts.
constexpr std::size_t kLimit = 15;

const std::vector<const output::RecordKind*> kKinds = {
    &output::kServedKind, &output::kRemoteServiceKind, &output::kPressureKind,
    &output::kOverviewSummaryKind};

struct Snapshot {
  HostOverview overview;
  HostScanSummary scan;
  bool owners = false;  // owners were looked up
  std::uint64_t time_ns = 0;
};

std::vector<std::string_view> hidden_fields(const OverviewFlags& f) {
  std::vector<std::string_view> hidden;
  if (f.no_processes) {
    hidden.insert(hidden.end(),
                  {"program", "processes", "owner_missing", "owners_missing", "programs"});
  }
  if (!f.watching()) hidden.push_back("time");
  return hidden;
}

bool shows_hint(const Service* s) { return s && !s->is_local(); }

void write_served(Context& ctx, output::RecordWriter& out, const HostOverview& o, bool& hint) {
  const output::Style& st = ctx.style;
  std::size_t without_listener = 0, unlisted = 0, rows = 0;
  for (const ServedPort& p : o.served) {
    if (!p.listening && ctx.human() && ++without_listener > kLimit) {
      ++unlisted;
      continue;
    }
    out.write(output::kServedKind, output::ServedRow(p));
    hint = hint || shows_hint(p.service);
    ++rows;
  }
  if (rows == 0) out.note("No listening sockets.");
  if (unlisted) {
    out.note(fmt::format("{}... and {} more ports with accepted connections but no listener{}",
                         st.dim(), unlisted, st.reset()));
  }
}

void write_remote(Context& ctx, output::RecordWriter& out, const HostOverview& o, bool& hint) {
  const output::Style& st = ctx.style;
  std::size_t rows = 0;
  for (const RemoteService& r : o.remote) {
    if (ctx.human() && rows >= kLimit) break;
    out.write(output::kRemoteServiceKind, output::RemoteRow(r));
    hint = hint || shows_hint(r.service);
    ++rows;
  }
  if (rows == 0) out.note("No client connections.");
  if (o.remote.size() > rows) {
    out.note(fmt::format("{}... and {} more remote ports (sockscope --json lists all){}", st.dim(),
                         o.remote.size() - rows, st.reset()));
  }
}

// "This host", or inside a namespace (ip netns exec, a container) which one.
std::string where_text(const Context& ctx, const HostOverview& o) {
  if (ctx.all_netns) {
    return fmt::format("This host, {} network namespace{}", o.namespaces,
                       o.namespaces == 1 ? "" : "s");
  }
  // A /run/netns name is never the host's own; an unnamed one differs from PID 1's.
  const NetworkNamespace ns = current_network_namespace();
  if (!ns.name.empty() || in_init_network_namespace() == false) {
    return "Network namespace " + ns.label();
  }
  return "This host";
}

void write_snapshot(Context& ctx, output::RecordWriter& out, const Snapshot& s) {
  const HostOverview& o = s.overview;
  const output::Style& st = ctx.style;
  const auto host = ctx.host_range();
  const std::string where = where_text(ctx, o);
  out.note(fmt::format(
      "{}{}{}: {} sockets: {} listening, {} accepted/served, {} client, {} unclassified (no "
      "listener, no kernel bit, ports too alike to tell; source {}{})\n",
      st.bold(), where, st.reset(), o.sockets, o.listeners, o.server_side, o.client_side, o.unknown,
      s.scan.source, host ? ", ephemeral range " + host->to_string() : std::string()));
  bool hint = false;
  write_served(ctx, out, o, hint);
  out.note("");
  write_remote(ctx, out, o, hint);
  const std::string how_to_read = ::geteuid() == 0 ? "" : "run as root to see them: sudo sockscope";
  const auto pressures = output::pressure_rows(o, how_to_read);
  if (!pressures.empty()) out.note("");
  for (const auto& p : pressures) out.write(output::kPressureKind, p);
  if (!ctx.human()) {
    out.write(output::kOverviewSummaryKind,
              output::OverviewSummaryRow{o, s.scan.source, s.owners, s.time_ns});
  }
  out.note("");
  if (hint) {
    out.note(
        fmt::format("{}NAME?: IANA's name for the port, what usually runs there (a hint, not "
                    "what does){}",
                    st.dim(), st.reset()));
  }
  out.note(
      fmt::format("{}Details: sockscope sockets -p, sockscope listen -p, sockscope ephemeral; "
                  "JSON: --json{}",
                  st.dim(), st.reset()));
}

std::expected<Snapshot, Error> take(Context& ctx, HostScan& scan, OverviewBuilder& builder) {
  auto done = scan.run([&](const HostRow& row) { builder.add(row); });
  if (!done) return std::unexpected(done.error());
  Snapshot s{builder.finish(scan.owners()), *done, scan.owners() != nullptr, 0};
  if (!ctx.all_netns) s.overview.namespaces = 1;
  s.time_ns = std::uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  return s;
}

void report_skipped(Context& ctx, const Snapshot& s) {
  for (const Error& e : s.overview.pressure.skipped) {
    ctx.warn("ephemeral ports not counted: " + e.what());
  }
}

// --watch: a table redrawn in place on a terminal, snapshots one after the other
// otherwise (tables with a time line between them; records with the summary's time).
int watch_overview(Context& ctx, const OverviewFlags& f, HostScan& scan, OverviewBuilder& builder) {
  const double interval = f.watch > 0 ? f.watch : 2.0;
  watch::catch_interrupts();
  const bool redraw = ctx.human() && ::isatty(STDOUT_FILENO);
  output::WriterOptions options{.style = ctx.style, .hidden = hidden_fields(f)};
  std::unique_ptr<output::RecordWriter> records;
  if (!ctx.human()) {
    records = std::make_unique<output::RecordWriter>(ctx.format, ctx.out, kKinds, options);
  }
  for (int view = 0;; ++view) {
    auto snapshot = take(ctx, scan, builder);
    if (!snapshot) {
      ctx.error(snapshot.error().what());
      return kExitRuntime;
    }
    if (view == 0) report_skipped(ctx, *snapshot);
    if (records) {
      write_snapshot(ctx, *records, *snapshot);
      records->flush();
    } else {
      // Clear the screen and go home (like top), or a time line between snapshots.
      if (redraw) fmt::format_to(fmt::appender(ctx.out.buffer()), "\x1b[H\x1b[2J");
      output::RecordWriter out(ctx.format, ctx.out, kKinds, options);
      if (!redraw && view > 0) out.note("");
      out.note(fmt::format("{} every {}s (Ctrl-C ends)", watch::stamp(), interval));
      write_snapshot(ctx, out, *snapshot);
      out.finish();
    }
    if ((f.count >= 0 && view >= f.count) || !watch::pause(interval)) break;
  }
  if (records) records->finish();
  return kExitOk;
}

}  // namespace

void add_overview_options(CLI::App& app, OverviewFlags& f) {
  auto* p = app.add_flag("-p,--processes", f.processes,
                         "the overview: name the owning programs (the default)");
  auto* no = app.add_flag("--no-processes", f.no_processes,
                          "the overview: no owners (skips the walk over every process)");
  auto* w = app.add_option("--watch", f.watch,
                           "the overview: refresh every SECONDS (default 2), in place on a "
                           "terminal; Ctrl-C ends")
                ->expected(0, 1)
                ->default_str("2");
  auto* c = app.add_option("--count", f.count, "the overview with --watch: stop after N refreshes");
  f.options = {p, no, w, c};
  f.watch_option = w;
}

int run_overview(Context& ctx, const OverviewFlags& f) {
  if (ctx.prometheus) {
    if (f.watching()) {
      ctx.error("--format prometheus writes once: it does not go with --watch");
      return kExitUsage;
    }
    return write_prometheus(ctx, serve::kAllFamilies, false);
  }
  if (f.processes && f.no_processes) {
    ctx.error("choose -p (owners, the default) or --no-processes");
    return kExitUsage;
  }
  if (f.count >= 0 && !f.watching()) {
    ctx.error("--count goes with --watch (sockscope --watch 2 --count 5)");
    return kExitUsage;
  }
  HostScanOptions options;
  options.all_namespaces = ctx.all_netns;
  options.host_ephemeral = ctx.host_range();
  options.owners = !f.no_processes;
  options.warn_unreadable_owners = false;  // the pressure table says it, with the fix
  HostScan scan(options, ctx.naming(), ctx.reporter());
  OverviewBuilder builder;
  if (f.watching()) return watch_overview(ctx, f, scan, builder);
  auto snapshot = take(ctx, scan, builder);
  if (!snapshot) {
    ctx.error(snapshot.error().what());
    return kExitRuntime;
  }
  report_skipped(ctx, *snapshot);
  auto out = ctx.writer(kKinds, false, hidden_fields(f));
  write_snapshot(ctx, out, *snapshot);
  out.finish();
  return kExitOk;
}

}  // namespace sockscope::cli
