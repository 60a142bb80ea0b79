// `sockscope watch`: the connection log (connection_log.hpp) as a live table,
// JSON Lines, CSV, or a Zeek-style conn.log (--zeek TSV, --zeek-json), with a
// summary at the end (Ctrl-C, --duration, --count).
#include <fmt/format.h>

#include <atomic>
#include <thread>

#include "cli/context.hpp"
#include "cli/host_filter.hpp"
#include "cli/ipfix_flags.hpp"
#include "cli/watch.hpp"
#include "output/kinds/connlog.hpp"
#include "sockscope/connection_log.hpp"

namespace sockscope::cli {
namespace {

struct WatchOptions {
  bool tcp = false, udp = false, no_processes = false, initial = false, all_netns = false;
  double duration = 0, interval = 0.5;
  std::size_t count = 0;
  std::string owners_from = "auto", tracer = "auto";
  IpfixFlags ipfix;
};

std::optional<ConnectionLogOptions> log_options(Context& ctx, const WatchOptions& o) {
  ConnectionLogOptions lo;
  lo.tcp = o.tcp || !o.udp;
  lo.udp = o.udp || !o.tcp;
  lo.all_namespaces = o.all_netns || ctx.all_netns;
  lo.owners = !o.no_processes;
  auto from = owner_source_option(ctx, o.owners_from);
  if (!from) return std::nullopt;
  lo.owner_source = *from;
  using Tracer = ConnectionLogOptions::Tracer;
  if (o.tracer == "auto" || o.tracer == "on" || o.tracer == "off") {
    lo.tracer = o.tracer == "on" ? Tracer::kOn : o.tracer == "off" ? Tracer::kOff : Tracer::kAuto;
  } else {
    ctx.error("--tracer '" + o.tracer + "': expected auto, on or off");
    return std::nullopt;
  }
  if (o.interval < 0.05 || o.interval > 3600) {
    ctx.error(fmt::format("--interval {}: expected 0.05 to 3600 seconds", o.interval));
    return std::nullopt;
  }
  lo.redump_interval = std::chrono::milliseconds(std::int64_t(o.interval * 1000));
  lo.duration = std::chrono::milliseconds(std::int64_t(o.duration * 1000));
  lo.max_events = o.count;
  lo.initial_events = o.initial;
  lo.host_ephemeral = ctx.host_range();
  return lo;
}

// The summary: a JSON line (event "summary") with --json; a table; a stderr line
// for the Zeek formats, whose files hold connections only.
void write_summary(Context& ctx, output::RecordWriter& out, const ConnectionLogSummary& s) {
  if (ctx.format == Format::kZeek || ctx.zeek_names) {
    std::string missing;
    for (std::size_t i = 0; i < std::size(s.owners_missing); ++i) {
      if (s.owners_missing[i]) {
        missing += fmt::format(" {}={}", to_string(OwnerMissing(i)), s.owners_missing[i]);
      }
    }
    std::fprintf(stderr,
                 "sockscope: watch: %zu opens, %zu closes, %zu listens, %zu unlistens, "
                 "events_lost %zu, owners missing:%s\n",
                 s.opens, s.closes, s.listens, s.unlistens, s.events_lost,
                 missing.empty() ? " none" : missing.c_str());
    return;
  }
  out.write(output::kConnectionSummaryKind, output::ConnectionSummaryRow{s});
}

int run_watch(Context& ctx, const WatchOptions& o) {
  auto options = log_options(ctx, o);
  if (!options) return kExitUsage;
  if (const int bad = check_ipfix(ctx, o.ipfix)) return bad;
  bool export_failed = false;
  const auto exporter = open_ipfix(ctx, o.ipfix, export_failed);
  watch::catch_interrupts();
  const bool zeek = ctx.format == Format::kZeek || ctx.zeek_names;
  std::vector<const output::RecordKind*> kinds =
      zeek ? std::vector<const output::RecordKind*>{&output::kZeekHostConnKind}
           : std::vector<const output::RecordKind*>{&output::kConnectionEventKind,
                                                    &output::kConnectionSummaryKind};
  output::WriterOptions wo{.host_ephemeral = ctx.host_range(), .style = ctx.style};
  wo.header_once = true;
  if (ctx.human() && !options->all_namespaces) wo.hidden.push_back("netns");
  output::RecordWriter out(ctx.format, ctx.out, kinds, std::move(wo));
  ConnectionLog log(*options, ctx.naming(), ctx.reporter());
  std::atomic<bool> finished{false};
  std::thread interrupts([&] {  // Ctrl-C reaches the log through its stop()
    while (!finished.load() && watch::pause(0.05)) {
    }
    log.stop();
  });
  std::size_t uncounted = 0;  // closes exported without counters (UDP, lost)
  auto summary = log.run(
      [&](const ConnectionEvent& e) {
        if (exporter) {
          exporter->add(e);
          uncounted += has_flow(e) && !e.counters;
        }
        if (zeek && e.kind != ConnectionEventKind::kClose) return;
        const output::ConnectionEventRow row(e);
        out.write(zeek ? output::kZeekHostConnKind : output::kConnectionEventKind, row);
        ctx.out.maybe_flush(1 << 16);
      },
      [&] {
        if (ctx.human()) out.note("watching; + opened, - closed (Ctrl-C ends)");
        out.flush();
      },
      [&] {
        out.flush();
        if (exporter) exporter->flush();
      });
  finished = true;
  interrupts.join();
  if (!summary) {
    out.finish();
    ctx.error(summary.error().what());
    return kExitRuntime;
  }
  write_summary(ctx, out, *summary);
  out.finish();
  std::string exported = finish_ipfix(ctx, o.ipfix, exporter.get(), export_failed);
  if (!exported.empty()) {
    // Closes the log missed are in no record: said here as in the summary.
    exported += fmt::format(
        " ({} of them closes without counters, sent as zero: UDP, lost, "
        "aborted; events lost {})",
        uncounted, summary->events_lost);
    std::fprintf(stderr, "sockscope: %s\n", exported.substr(2).c_str());
  }
  return export_failed ? kExitRuntime : kExitOk;
}

}  // namespace

void add_watch_commands(CLI::App& app, Context& ctx) {
  static WatchOptions o;
  auto* sub = app.add_subcommand(
      "watch",
      "the connection log: every connection's open and close (bytes, segments, owner, Community "
      "ID), listeners' appearance and end; loss counted");
  sub->add_flag("--tcp,-t", o.tcp, "TCP sockets (default: TCP and UDP)");
  sub->add_flag("--udp,-u", o.udp, "UDP sockets");
  sub->add_flag("--all-netns", o.all_netns, "every network namespace, each tagged");
  sub->add_option("--duration", o.duration, "stop after SECONDS")->type_name("SECONDS");
  sub->add_option("--count", o.count, "stop after N events");
  sub->add_option("--interval", o.interval,
                  "re-dump the socket table every SECONDS (default 0.5): opens seen this late "
                  "at most without the tracer")
      ->type_name("SECONDS");
  sub->add_flag("--initial", o.initial, "also the sockets open at start, as open/listen events");
  sub->add_flag("--no-processes", o.no_processes, "no owner scans");
  add_owners_from_option(sub, o.owners_from);
  sub->add_option("--tracer", o.tracer,
                  "the sock:inet_sock_set_state tracepoint: auto (when root and the kernel "
                  "allow it), on (fail without it), off")
      ->type_name("MODE")
      ->transform(keep_literal());
  add_ipfix_options(sub, o.ipfix);
  ctx.on(sub, [&ctx] { return run_watch(ctx, o); });
}

}  // namespace sockscope::cli
