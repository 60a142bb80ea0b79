// HostScan: one dump per namespace, roles attached, services named, owners resolved
// on a thread of their own while the dump runs.
#include "sockscope/host_scan.hpp"

#include <unistd.h>

namespace sockscope {

// A row that arrived before the owner scan finished, copied.
struct HostScan::Waiting {
  SocketRecord record;
  LocalRole role;
  Evidence evidence;
  const NetworkNamespace* netns;
};

HostScan::HostScan(HostScanOptions options, const Naming& naming, ReportFn report)
    : options_(std::move(options)), naming_(naming), report_(std::move(report)) {}

HostScan::~HostScan() {
  // A scan still running holds no reference into this object; its result is dropped.
  if (pending_) (void)pending_->get();
}

std::expected<void, Error> HostScan::start_owners() {
  owners_.reset();
  auto started = ProcessOwners::start(options_.owner_source);
  if (!started) return std::unexpected(started.error());
  pending_.emplace(std::move(*started));
  return {};
}

std::expected<void, Error> HostScan::wait_for_owners() {
  if (owners_ || !pending_) return {};
  auto got = pending_->get();
  pending_.reset();
  if (!got) return std::unexpected(got.error());
  owners_ = std::move(*got);
  if (!owners_->bpf_unused().empty() && options_.owner_source == OwnerSource::kAuto &&
      ::geteuid() == 0) {
    report(Severity::kWarning,
           "owners from /proc (slower): no BPF iterator: " + owners_->bpf_unused());
  }
  if (owners_->denied() > 0 && options_.warn_unreadable_owners) {
    report(Severity::kWarning,
           std::to_string(owners_->denied()) +
               " processes' descriptors are not readable (not root): their sockets show "
               "owner_missing no-permission");
  }
  return {};
}

void HostScan::deliver(const HostSocket& socket, const NetworkNamespace& ns, const Sink& sink) {
  HostRow row{socket,
              naming_.service(socket.record.transport, socket.server_port(), socket.evidence), ns};
  if (owners_) {
    row.owners_known = true;
    row.owners = owners_->of(socket.record.inode);
    if (row.owners.empty()) row.owner_missing = owners_->why_missing(socket.record);
  }
  ++delivered_;
  sink(row);
}

// While the owner scan runs, rows wait so that the dump and the scan overlap; at
// most kMaxWaiting (2 MiB of address space, touched only as rows come), then the
// dump waits for the scan.
constexpr std::size_t kMaxWaiting = 16384;

void HostScan::on_socket(const HostSocket& s, const NetworkNamespace& ns, const Sink& sink) {
  if (owner_error_) return;
  if (options_.owners && !owners_) {
    if (!pending_->ready() && waiting_.size() < kMaxWaiting) {
      // Room for all that may wait, at once: growing by doubling copied the rows
      // and touched about three times their memory.
      if (waiting_.capacity() == 0) waiting_.reserve(kMaxWaiting);
      waiting_.push_back({s.record, s.role, s.evidence, &ns});
      return;
    }
    flush_waiting(sink);
    if (owner_error_) return;
  }
  deliver(s, ns, sink);
}

void HostScan::flush_waiting(const Sink& sink) {
  if (auto done = wait_for_owners(); !done && !owner_error_) owner_error_ = done.error();
  if (!owner_error_) {
    for (const auto& w : waiting_)
      deliver(HostSocket{w.record, w.role, w.evidence}, *w.netns, sink);
  }
  waiting_.clear();
  waiting_.shrink_to_fit();
}

std::expected<std::unique_ptr<SocketSource>, Error> HostScan::open_source(
    const NetworkNamespace& ns) {
  if (!ns.current) return open_socket_source_in(ns);
  std::string why;
  auto opened = open_socket_source(&why);
  if (opened && !why.empty()) {
    report(Severity::kWarning, "netlink unavailable (" + why + "); reading /proc/net instead");
  }
  return opened;
}

std::expected<HostScanSummary, Error> HostScan::run(const Sink& sink) {
  std::vector<NetworkNamespace> namespaces;
  if (options_.all_namespaces) {
    std::vector<Error> warnings;
    namespaces = list_network_namespaces(&warnings);
    for (const auto& w : warnings) report(Severity::kWarning, w.what());
  } else {
    namespaces = {current_network_namespace()};
  }
  if (options_.owners) {
    if (auto started = start_owners(); !started) return std::unexpected(started.error());
  }
  delivered_ = 0;
  owner_error_.reset();
  HostScanSummary summary;
  std::optional<Error> first_error;
  for (const auto& ns : namespaces) {
    auto source = open_source(ns);
    if (!source) {
      // This namespace failing is an error; another one that cannot be entered is skipped.
      if (ns.current) {
        report(Severity::kError, source.error().what());
        if (!first_error) first_error = source.error();
      } else {
        report(Severity::kWarning,
               "network namespace " + ns.label() + " skipped: " + source.error().what());
      }
      continue;
    }
    summary.source = std::string((*source)->name());
    auto stats = dump_with_roles(**source, options_.query, options_.host_ephemeral,
                                 [&](const HostSocket& s) { on_socket(s, ns, sink); });
    if (!stats) {
      const Error e{stats.error().code,
                    "network namespace " + ns.label() + ": " + stats.error().what()};
      report(Severity::kError, e.message);
      if (!first_error) first_error = e;
      continue;
    }
    for (const auto& skipped : stats->skipped) report(Severity::kWarning, skipped.what());
    ++summary.namespaces;
  }
  if (!waiting_.empty() || (options_.owners && !owners_)) flush_waiting(sink);
  if (owner_error_) return std::unexpected(*owner_error_);
  if (summary.namespaces == 0) {
    return std::unexpected(first_error ? *first_error
                                       : Error::io("no network namespace could be read"));
  }
  summary.sockets = delivered_;
  return summary;
}

}  // namespace sockscope
