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
    report(Severity::kWarning, "owners from /proc (slower): no BPF iterator: " +
                                   owners_->bpf_unused());
  }
  if (owners_->denied() > 0 && options_.warn_unreadable_owners) {
    report(Severity::kWarning,
           std::to_string(owners_->denied()) +
               " processes' descriptors are not readable (not root): their sockets show "
               "owner_missing no-permission");
  }
  return {};
}

void HostScan::deliver(const HostSocket& socket, const NetworkNamespace& ns,
                       const std::function<void(const HostRow&)>& sink) {
  HostRow row{socket, naming_.service(socket.record.transport, socket.server_port(),
                                      socket.evidence),
              ns};
  if (owners_) {
    row.owners_known = true;
    row.owners = owners_->of(socket.record.inode);
    if (row.owners.empty()) row.owner_missing = owners_->why_missing(socket.record);
  }
  ++delivered_;
  sink(row);
}

std::expected<HostScanSummary, Error> HostScan::run(
    const std::function<void(const HostRow&)>& sink) {
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
  // While the owner scan runs, rows wait here so that the dump and the scan
  // overlap; at most kMaxWaiting (2 MiB of address space, touched only as rows
  // come), then the dump waits for the scan.
  constexpr std::size_t kMaxWaiting = 16384;
  std::optional<Error> owner_error;
  auto flush_waiting = [&] {
    if (waiting_.empty()) return;
    if (auto done = wait_for_owners(); !done) owner_error = done.error();
    if (!owner_error) {
      for (const auto& w : waiting_) deliver(HostSocket{w.record, w.role, w.evidence}, *w.netns, sink);
    }
    waiting_.clear();
    waiting_.shrink_to_fit();
  };
  delivered_ = 0;
  HostScanSummary summary;
  std::optional<Error> first_error;
  for (const auto& ns : namespaces) {
    std::unique_ptr<SocketSource> source;
    if (ns.current) {
      std::string why;
      auto opened = open_socket_source(&why);
      if (!opened) {
        report(Severity::kError, opened.error().what());
        if (!first_error) first_error = opened.error();
        continue;
      }
      if (!why.empty()) {
        report(Severity::kWarning, "netlink unavailable (" + why + "); reading /proc/net instead");
      }
      source = std::move(*opened);
    } else {
      auto opened = open_socket_source_in(ns);
      if (!opened) {
        report(Severity::kWarning,
               "network namespace " + ns.label() + " skipped: " + opened.error().what());
        continue;
      }
      source = std::move(*opened);
    }
    summary.source = std::string(source->name());
    auto stats = dump_with_roles(*source, options_.query, options_.host_ephemeral,
                                 [&](const HostSocket& s) {
      if (owner_error) return;
      if (options_.owners && !owners_) {
        if (!pending_->ready() && waiting_.size() < kMaxWaiting) {
          // Room for all that may wait, at once: growing by doubling copied the
          // rows and touched about three times their memory.
          if (waiting_.capacity() == 0) waiting_.reserve(kMaxWaiting);
          waiting_.push_back({s.record, s.role, s.evidence, &ns});
          return;
        }
        flush_waiting();
        if (auto done = wait_for_owners(); !done) owner_error = done.error();
        if (owner_error) return;
      }
      deliver(s, ns, sink);
    });
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
  flush_waiting();
  if (options_.owners && !owner_error) {
    if (auto done = wait_for_owners(); !done) owner_error = done.error();
  }
  if (owner_error) return std::unexpected(*owner_error);
  if (summary.namespaces == 0) {
    return std::unexpected(first_error ? *first_error
                                       : Error::io("no network namespace could be read"));
  }
  summary.sockets = delivered_;
  return summary;
}

}  // namespace sockscope
