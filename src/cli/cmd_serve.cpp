// `sockscope serve`: its options (the same in both binaries, serve_flags.hpp).
#include "cli/serve_flags.hpp"

namespace sockscope::cli {

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
