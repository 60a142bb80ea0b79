// `sockscope` without arguments: what this host serves (listeners by service and
// port group, with the connections they accepted) and whom it talks to (client
// connections grouped by the remote service, counted by state).
#include <fmt/format.h>

#include "cli/context.hpp"
#include "output/kinds/host.hpp"
#include "sockscope/host_scan.hpp"
#include "sockscope/netns.hpp"
#include "sockscope/overview.hpp"

namespace sockscope::cli {
namespace {

// Tables list every listener, but served ports without a listener and remote
// services only the busiest kLimit, so the overview fits a screen on busy hosts.
constexpr std::size_t kLimit = 15;

void write_tables(Context& ctx, output::RecordWriter& out, const HostOverview& o) {
  const output::Style& st = ctx.style;
  std::size_t without_listener = 0, unlisted = 0, served_rows = 0;
  for (const ServedPort& p : o.served) {
    if (!p.listening && ctx.human() && ++without_listener > kLimit) {
      ++unlisted;
      continue;
    }
    out.write(output::kServedKind, output::ServedRow(p));
    ++served_rows;
  }
  if (served_rows == 0) out.note("No listening sockets.");
  if (unlisted) {
    out.note(fmt::format("{}... and {} more ports with accepted connections but no listener{}",
                         st.dim(), unlisted, st.reset()));
  }
  out.note("");
  std::size_t remote_rows = 0;
  for (const RemoteService& r : o.remote) {
    if (ctx.human() && remote_rows >= kLimit) break;
    out.write(output::kRemoteServiceKind, output::RemoteRow(r));
    ++remote_rows;
  }
  if (remote_rows == 0) out.note("No client connections.");
  if (o.remote.size() > remote_rows) {
    out.note(fmt::format("{}... and {} more remote ports (sockscope --json lists all){}",
                         st.dim(), o.remote.size() - remote_rows, st.reset()));
  }
}

}  // namespace

int run_overview(Context& ctx) {
  HostScanOptions options;
  options.all_namespaces = ctx.all_netns;
  options.host_ephemeral = ctx.host_range();
  HostScan scan(options, ctx.naming(), ctx.reporter());
  OverviewBuilder builder;
  auto done = scan.run([&](const HostRow& row) { builder.add(row); });
  if (!done) {
    ctx.error(done.error().what());
    return kExitRuntime;
  }
  HostOverview o = builder.finish();
  if (!ctx.all_netns) o.namespaces = 1;
  auto out = ctx.writer({&output::kServedKind, &output::kRemoteServiceKind,
                         &output::kOverviewSummaryKind});
  const output::Style& st = ctx.style;
  const auto host = ctx.host_range();
  // Inside a namespace (ip netns exec, a container) the overview says which.
  std::string where = "This host";
  if (ctx.all_netns) {
    where = fmt::format("This host, {} network namespace{}", o.namespaces,
                        o.namespaces == 1 ? "" : "s");
  } else if (const NetworkNamespace ns = current_network_namespace();
             !ns.name.empty() || in_init_network_namespace() == false) {
    // A /run/netns name is never the host's own; an unnamed one differs from PID 1's.
    where = "Network namespace " + ns.label();
  }
  out.note(fmt::format(
      "{}{}{}: {} sockets: {} listening, {} accepted/served, {} client, {} unclassified (no "
      "listener, no kernel bit, ports too alike to tell; source {}{})\n",
      st.bold(), where, st.reset(), o.sockets, o.listeners, o.server_side, o.client_side,
      o.unknown, done->source, host ? ", ephemeral range " + host->to_string() : std::string()));
  write_tables(ctx, out, o);
  if (!ctx.human()) {
    out.write(output::kOverviewSummaryKind, output::OverviewSummaryRow{o, done->source});
  }
  out.note("");
  out.note(fmt::format("{}Details: sockscope sockets [-p], sockscope listen; JSON: --json{}",
                       st.dim(), st.reset()));
  out.finish();
  return kExitOk;
}

}  // namespace sockscope::cli
