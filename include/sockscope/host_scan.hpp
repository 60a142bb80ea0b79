// sockscope/host_scan.hpp: this host's sockets with roles, service names and owners,
// in one call, across this network namespace or all of them.
//
//   #include <iostream>
//   Registry registry;  // IANA's names; load_services_file() adds local labels
//   Naming naming(registry);
//   HostScanOptions options{.owners = true};
//   if (auto range = EphemeralRange::read_host()) options.host_ephemeral = range->range;
//   HostScan scan(options, naming);  // a third argument hears of what it skipped
//   auto report = scan.run([](const HostRow& row) {
//     std::cout << row.socket.record.local.to_string()                // 127.0.0.1:5432
//               << ' ' << to_string(row.socket.role)                  // listener
//               << ' ' << (row.service ? row.service->name : "-")     // postgresql
//               << ' ' << row.netns.label();                          // net:[4026531840]
//     for (const ProcessOwner& o : row.owners) std::cout << ' ' << o.pid << '/' << o.command;
//     if (row.owners.empty()) std::cout << " (" << to_string(row.owner_missing) << ')';
//     std::cout << '\n';
//   });
//   if (!report) {  // nothing could be read
//     std::cerr << report.error().what() << '\n';
//     return 1;
//   }
//
// The owner scan (a BPF task_file iterator as root, else one pass over /proc/*/fd)
// runs on a thread of its own while the kernel's dump streams in; rows that arrive
// before it is done wait (copied, at most 16,384, then the dump waits), so every row
// reaches the sink with its owners and in the kernel's order.
// Problems that do not stop the scan (a namespace that cannot be entered, netlink
// refused so /proc/net is read, processes whose descriptors are unreadable) go to
// the `report` callback as they happen.
// Thread safety: one HostScan per thread; run() may be called again (--watch).
#pragma once

#include <cstddef>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sockscope/error.hpp"
#include "sockscope/host.hpp"
#include "sockscope/naming.hpp"
#include "sockscope/netns.hpp"
#include "sockscope/process_owners.hpp"
#include "sockscope/socket_table.hpp"

namespace sockscope {

struct HostScanOptions {
  SocketQuery query;            // transports, families, states
  bool all_namespaces = false;  // every namespace (/proc/*/ns/net, /run/netns): needs root
  bool owners = false;          // resolve owning processes
  OwnerSource owner_source = OwnerSource::kAuto;
  // Warn through `report` when processes' descriptors cannot be read (not root);
  // off for callers that say so themselves.
  bool warn_unreadable_owners = true;
  // The host's ephemeral range for the role rule (EphemeralRange::read_host());
  // without it, the port-group rule alone.
  std::optional<PortRange> host_ephemeral;
};

// One socket as every host view sees it. Valid during the sink's call only.
struct HostRow {
  HostSocket socket;
  const Service* service = nullptr;  // Naming's answer for the server port
  const NetworkNamespace& netns;
  std::span<const ProcessOwner> owners;              // with owners: who holds it
  OwnerMissing owner_missing = OwnerMissing::kNone;  // with owners: why nobody
  bool owners_known = false;                         // whether owners were resolved
};

struct HostScanSummary {
  std::size_t sockets = 0;     // rows delivered
  std::size_t namespaces = 0;  // namespaces read
  std::string source;          // "netlink", "/proc/net" or "recorded"
};

class HostScan {
 public:
  HostScan(HostScanOptions options, const Naming& naming, ReportFn report = {});
  ~HostScan();
  HostScan(const HostScan&) = delete;
  HostScan& operator=(const HostScan&) = delete;

  // Dumps every namespace asked for and streams its sockets. An error when nothing
  // could be read, or when owners were asked from a source that failed
  // (OwnerSource::kBpf); rows already delivered stay delivered.
  using Sink = std::function<void(const HostRow&)>;
  std::expected<HostScanSummary, Error> run(const Sink& sink);

  // The owners of the last run (nullptr before, or without owners).
  const ProcessOwners* owners() const { return owners_ ? &*owners_ : nullptr; }

 private:
  struct Waiting;
  std::expected<void, Error> start_owners();
  std::expected<void, Error> wait_for_owners();
  void deliver(const HostSocket& socket, const NetworkNamespace& ns, const Sink& sink);
  void on_socket(const HostSocket& socket, const NetworkNamespace& ns, const Sink& sink);
  // Waits for the owner scan and delivers the rows that waited for it.
  void flush_waiting(const Sink& sink);
  std::expected<std::unique_ptr<SocketSource>, Error> open_source(const NetworkNamespace& ns);
  void report(Severity severity, const std::string& message) const {
    if (report_) report_(severity, message);
  }

  HostScanOptions options_;
  const Naming& naming_;
  ReportFn report_;
  std::optional<ProcessOwners> owners_;
  std::optional<PendingOwners> pending_;
  std::vector<Waiting> waiting_;
  std::optional<Error> owner_error_;  // the owner scan failed during this run
  std::size_t delivered_ = 0;
};

}  // namespace sockscope
