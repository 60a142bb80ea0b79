#include "output/host_snapshot.hpp"

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
  std::vector<PortUse> own;  // the ephemeral analysis: this namespace's sockets only
  HostSnapshot s;
  auto done = scan.run([&](const HostRow& row) {
    overview.add(row);
    sockets.add(row.socket.record);
    if (row.owners_known && row.owner_missing != OwnerMissing::kNone) {
      s.owners_missing.add(row.owner_missing);
    }
    const Transport t = row.socket.record.transport;
    if (row.netns.current && (t == Transport::kTcp || t == Transport::kUdp)) {
      own.push_back(PortUse::of(row.socket.record));
    }
  });
  if (!done) return std::unexpected(done.error());
  s.scan = *done;
  s.owners = scan.owners() != nullptr;
  s.overview = overview.finish(scan.owners());
  if (!options.all_namespaces) s.overview.namespaces = 1;
  s.all_namespaces = options.all_namespaces;
  s.sockets = sockets.finish();
  if (auto settings = EphemeralSettings::read()) {
    s.ephemeral = analyze_ephemeral(own, *settings, 0);
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
