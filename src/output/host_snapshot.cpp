#include "output/host_snapshot.hpp"

#include <algorithm>
#include <chrono>

namespace sockscope::output {

std::expected<HostSnapshot, Error> take_host_snapshot(const HostSnapshotOptions& options,
                                                      const Naming& naming,
                                                      const ReportFn& report) {
  const auto start = std::chrono::steady_clock::now();
  HostScanOptions scan_options;
  scan_options.all_namespaces = options.all_namespaces;
  scan_options.owners = options.owners;
  scan_options.warn_unreadable_owners = false;  // counted in owners_missing instead
  scan_options.host_ephemeral = options.host_ephemeral;
  HostScan scan(scan_options, naming, report);
  OverviewBuilder overview;
  SocketSummaryBuilder sockets;
  sockets.include(Transport::kTcp);
  sockets.include(Transport::kUdp);
  HostSnapshot s;
  auto done = scan.run([&](const HostRow& row) {
    overview.add(row);
    sockets.add(row.socket.record);
    if (row.owners_known && row.owner_missing != OwnerMissing::kNone) {
      s.owners_missing.add(row.owner_missing);
    }
  });
  if (!done) return std::unexpected(done.error());
  s.scan = *done;
  s.owners = scan.owners() != nullptr;
  s.overview = overview.finish(scan.owners());
  if (!options.all_namespaces) s.overview.namespaces = 1;
  s.all_namespaces = options.all_namespaces;
  s.sockets = sockets.finish();
  // This namespace's ephemeral ports: the overview analysed every namespace it saw;
  // one without sockets is analysed here (and listed with the others).
  auto& namespaces = s.overview.pressure.namespaces;
  const auto own = std::find_if(namespaces.begin(), namespaces.end(),
                                [](const NamespaceEphemeral& n) { return n.netns.current; });
  if (own != namespaces.end()) {
    s.ephemeral = own->report;
  } else if (auto settings = EphemeralSettings::read()) {
    s.ephemeral = analyze_ephemeral(std::span<const PortUse>(), *settings, 0);
    if (options.all_namespaces) {
      NamespaceEphemeral here{current_network_namespace(), *s.ephemeral};
      const auto at = std::upper_bound(
          namespaces.begin(), namespaces.end(), here,
          [](const auto& a, const auto& b) { return a.netns.label() < b.netns.label(); });
      namespaces.insert(at, std::move(here));
    }
  } else if (report) {
    report(Severity::kWarning, "ephemeral ports not counted: " + settings.error().what());
  }
  s.time_ns = std::uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  s.collect_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return s;
}

}  // namespace sockscope::output
