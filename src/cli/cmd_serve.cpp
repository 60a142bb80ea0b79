// `sockscope serve`: the host's metrics, records and event feed over HTTP
// (serve/server.hpp); and `--format prometheus`, the same families once on
// standard output for node_exporter's textfile collector.
#include <fmt/format.h>

#include "cli/context.hpp"
#include "output/host_snapshot.hpp"
#include "output/metrics.hpp"
#include "serve/server.hpp"

namespace sockscope::cli {
namespace {

struct ServeFlags {
  std::string listen = "127.0.0.1:9846";
  bool allow_remote = false, all_netns = false, processes = false;
  std::size_t metrics_top = 20;
  double metrics_min_ratio = 50;  // percent
  std::size_t max_event_clients = 8;
};

int run_serve(Context& ctx, const ServeFlags& f) {
  auto at = Endpoint::parse(f.listen);
  if (!at) {
    ctx.error("--listen " + quote_input(f.listen) + ": " + at.error().what());
    return kExitUsage;
  }
  serve::ServeOptions options;
  options.listen = *at;
  options.allow_remote = f.allow_remote;
  options.all_namespaces = f.all_netns || ctx.all_netns;
  options.owners = f.processes;
  options.metrics = {.top = f.metrics_top, .min_ratio = f.metrics_min_ratio / 100.0};
  options.host_ephemeral = ctx.host_range();
  options.max_event_clients = f.max_event_clients;
  if (auto ok = serve::check(options); !ok) {
    ctx.error("--listen " + ok.error().fragment + ": " + ok.error().message);
    return kExitUsage;
  }
  serve::Server server(options, ctx.naming(), ctx.reporter());
  if (auto bound = server.bind(); !bound) {
    ctx.error("--listen " + bound.error().fragment + ": " + bound.error().message);
    return kExitRuntime;
  }
  // The line a supervisor or a test waits for: where to connect.
  std::fprintf(stderr, "sockscope: serving on http://%s/ (Ctrl-C ends)\n",
               server.bound().to_string().c_str());
  server.run_until_signalled();
  return kExitOk;
}

}  // namespace

int write_prometheus(Context& ctx, unsigned parts, bool owners) {
  output::HostSnapshotOptions options{
      .all_namespaces = ctx.all_netns, .owners = owners, .host_ephemeral = ctx.host_range()};
  auto snapshot = output::take_host_snapshot(options, ctx.naming(), ctx.reporter());
  if (!snapshot) {
    ctx.error(snapshot.error().what());
    return kExitRuntime;
  }
  ctx.out.append(output::prometheus_text(output::host_families(*snapshot, {}, parts)));
  ctx.out.flush();
  return kExitOk;
}

void add_serve_command(CLI::App& app, Context& ctx) {
  static ServeFlags f;
  auto* sub = app.add_subcommand(
      "serve", "an HTTP server: Prometheus /metrics, the records of --json under /api/, /healthz");
  sub->add_option("--listen", f.listen, "ADDRESS:PORT to listen on (default 127.0.0.1:9846)")
      ->type_name("ENDPOINT")
      ->transform(keep_literal());
  sub->add_flag("--allow-remote", f.allow_remote,
                "allow a non-loopback --listen address (read-only, rate-limited per client)");
  sub->add_flag("--all-netns", f.all_netns, "every network namespace (root)");
  sub->add_flag("-p,--processes", f.processes, "serve owning processes (pids, commands)");
  sub->add_option("--metrics-top", f.metrics_top,
                  "ephemeral destinations with series of their own, fullest first (default 20)")
      ->type_name("N")
      ->check(count_at_least(1));
  sub->add_option("--metrics-min-ratio", f.metrics_min_ratio,
                  "and every destination at least PCT% full (default 50; at most 1000 in all)")
      ->type_name("PCT")
      ->transform(percentage());
  sub->add_option("--max-event-clients", f.max_event_clients,
                  "event streams (/events) at once; more are refused with 503 (default 8)")
      ->type_name("N")
      ->check(count_at_least(1));
  ctx.on(sub, [&ctx] { return run_serve(ctx, f); });
}

}  // namespace sockscope::cli
