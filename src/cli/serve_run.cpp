// `sockscope serve` and --format prometheus in sockscope-serve, the binary
// linked with cpp-httplib and prometheus-cpp: the server (serve/server.hpp), and
// the families once on standard output for node_exporter's textfile collector.
#include <fmt/format.h>
#include <malloc.h>

#include "cli/serve_flags.hpp"
#include "output/host_snapshot.hpp"
#include "serve/metrics.hpp"
#include "serve/server.hpp"

namespace sockscope::cli {

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
  // Two malloc arenas for the server's ~25 threads, not one each: an idle server
  // otherwise keeps every worker's arena of its last scrape resident. Large
  // buffers (a response of 20,000 sockets) always mapped on their own, so that
  // freeing them returns them (glibc's threshold otherwise grows to 32 MiB).
  ::mallopt(M_ARENA_MAX, 2);
  ::mallopt(M_MMAP_THRESHOLD, 256 << 10);
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

int write_prometheus(Context& ctx, unsigned parts, bool owners) {
  output::HostSnapshotOptions options{
      .all_namespaces = ctx.all_netns, .owners = owners, .host_ephemeral = ctx.host_range()};
  auto snapshot = output::take_host_snapshot(options, ctx.naming(), ctx.reporter());
  if (!snapshot) {
    ctx.error(snapshot.error().what());
    return kExitRuntime;
  }
  ctx.out.append(serve::prometheus_text(serve::host_families(*snapshot, {}, parts)));
  ctx.out.flush();
  return kExitOk;
}

}  // namespace sockscope::cli
