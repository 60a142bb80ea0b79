// One scan of this host's sockets that feeds every view the server and the
// Prometheus format give: the overview (listeners, remote services, pressures),
// sockets counted by transport and state, and ephemeral-port use per destination
// of the scanning thread's own namespace (every destination, fullest first).
//
//   HostSnapshotOptions options;       // this namespace, no owners
//   auto snapshot = take_host_snapshot(options, naming, report);
//   if (snapshot) use(snapshot->overview, snapshot->ephemeral);
//
// Thread safety: one call per thread at a time (it runs a HostScan of its own).
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "sockscope/ephemeral.hpp"
#include "sockscope/host_scan.hpp"
#include "sockscope/overview.hpp"

namespace sockscope::output {

struct HostSnapshotOptions {
  bool all_namespaces = false;  // every namespace (root)
  bool owners = false;          // resolve owning processes (-p)
  std::optional<PortRange> host_ephemeral;
};

struct HostSnapshot {
  HostOverview overview;
  std::vector<TransportCount> sockets;       // by transport, state (TCP and UDP listed always)
  std::optional<EphemeralReport> ephemeral;  // nullopt: the sysctls could not be read
  // With all_namespaces: every namespace's ephemeral ports are in
  // overview.pressure.namespaces (this one always, as `ephemeral`), and the
  // metrics label each.
  bool all_namespaces = false;
  OwnerMissingCounts owners_missing;  // with owners: sockets without one, by reason
  HostScanSummary scan;
  bool owners = false;         // owners were looked up
  std::uint64_t time_ns = 0;   // when the scan ended (Unix epoch)
  double collect_seconds = 0;  // how long the scan and the analysis took
};

std::expected<HostSnapshot, Error> take_host_snapshot(const HostSnapshotOptions& options,
                                                      const Naming& naming,
                                                      const ReportFn& report = {});

}  // namespace sockscope::output
