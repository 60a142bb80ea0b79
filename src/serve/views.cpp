#include "serve/views.hpp"

#include <malloc.h>
#include <prometheus/gauge.h>
#include <unistd.h>

#include "output/kinds/host.hpp"
#include "output/kinds/overview.hpp"
#include "output/writer.hpp"
#include "sockscope/version.hpp"

namespace sockscope::serve {

// The host's families of one collection, as prometheus-cpp's Collectable: made
// per scrape over the snapshot that scrape collected, beside the registry's own.
class Views::HostCollector : public prometheus::Collectable {
 public:
  HostCollector(Snapshot snapshot, const MetricsOptions& options)
      : snapshot_(std::move(snapshot)), options_(options) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    return host_families(*snapshot_, options_);
  }

 private:
  Snapshot snapshot_;
  const MetricsOptions& options_;
};

Views::Views(const ServeOptions& options, const Naming& naming, ReportFn report)
    : options_(options),
      naming_(naming),
      report_(std::move(report)),
      registry_(std::make_shared<prometheus::Registry>()) {
  prometheus::BuildGauge()
      .Name("sockscope_build_info")
      .Help("The running sockscope's version (value 1).")
      .Register(*registry_)
      .Add({{"version", std::string(kVersion)}})
      .Set(1);
  owner_failures_ = &prometheus::BuildCounter()
                         .Name("sockscope_owner_lookup_failures_total")
                         .Help(
                             "Sockets whose owning process could not be named, by reason, "
                             "summed over collections (with -p).")
                         .Register(*registry_);
  for (OwnerMissing why :
       {OwnerMissing::kNoPermission, OwnerMissing::kOtherNetns, OwnerMissing::kNoProcess}) {
    owner_failures_->Add({{"reason", std::string(to_string(why))}});
  }
}

Views::~Views() = default;

void Views::count_owner_failures(const output::HostSnapshot& s) {
  for (const auto& [why, n] : s.owners_missing.nonzero()) {
    if (why == OwnerMissing::kTimeWait || why == OwnerMissing::kKernelOwned) continue;
    owner_failures_->Add({{"reason", std::string(to_string(why))}}).Increment(double(n));
  }
}

std::expected<Views::Snapshot, Error> Views::snapshot() {
  const auto asked = std::chrono::steady_clock::now();
  waiting_.fetch_add(1);
  std::lock_guard lock(scan_mutex_);
  waiting_.fetch_sub(1);
  if (last_ && last_started_ >= asked) {  // began after we asked: fresh enough
    Snapshot shared = last_;
    if (waiting_.load() == 0) last_.reset();
    return shared;
  }
  last_.reset();
  const auto started = std::chrono::steady_clock::now();
  auto s = output::take_host_snapshot({.all_namespaces = options_.all_namespaces,
                                       .owners = options_.owners,
                                       .host_ephemeral = options_.host_ephemeral},
                                      naming_, report_);
  if (!s) return std::unexpected(s.error());
  count_owner_failures(*s);
  auto fresh = std::make_shared<const output::HostSnapshot>(std::move(*s));
  // Kept for those already waiting; a request that comes later finds none (a
  // race only costs it a collection of its own).
  if (waiting_.load() > 0) {
    last_ = fresh;
    last_started_ = started;
  }
  ::malloc_trim(0);  // the scan's buffers go back: an idle server stays small
  return fresh;
}

std::expected<std::string, Error> Views::metrics() {
  auto s = snapshot();
  if (!s) return std::unexpected(s.error());
  auto families = HostCollector(*s, options_.metrics).Collect();
  auto own = registry_->Collect();
  families.insert(families.end(), std::make_move_iterator(own.begin()),
                  std::make_move_iterator(own.end()));
  return prometheus_text(families);
}

std::expected<std::string, Error> Views::sockets(bool listeners_only) {
  HostScanOptions scan_options;
  scan_options.all_namespaces = options_.all_namespaces;
  scan_options.owners = options_.owners;
  scan_options.host_ephemeral = options_.host_ephemeral;
  if (listeners_only) {
    scan_options.query.states &= state_bit(SocketState::kListen) | state_bit(SocketState::kClose);
  }
  std::string text;
  {
    output::Sink sink(text);
    output::WriterOptions wo{.host_ephemeral = options_.host_ephemeral};
    wo.hidden = output::hidden_socket_fields(
        {.processes = options_.owners, .all_netns = options_.all_namespaces});
    output::RecordWriter out(output::Format::kJson, sink, {&output::kSocketKind}, wo);
    std::lock_guard lock(scan_mutex_);
    HostScan scan(scan_options, naming_, report_);
    auto done = scan.run([&](const HostRow& row) {
      if (listeners_only && row.socket.role != LocalRole::kListener) return;
      out.write(output::kSocketKind, output::SocketRow{row});
    });
    if (!done) return std::unexpected(done.error());
    out.finish();
  }
  ::malloc_trim(0);
  return text;
}

std::expected<std::string, Error> Views::ephemeral() {
  auto s = snapshot();
  if (!s) return std::unexpected(s.error());
  if (!(*s)->ephemeral)
    return std::unexpected(Error::io("the ephemeral sysctls could not be read"));
  std::string text;
  {
    output::Sink sink(text);
    std::vector<std::string_view> hidden{"processes_shown"};
    if (!options_.all_namespaces) hidden.push_back("netns");
    output::RecordWriter out(output::Format::kJson, sink,
                             {&output::kDestinationKind, &output::kBindPoolKind},
                             {.hidden = hidden});
    const auto write = [&](const EphemeralReport& report, const NetworkNamespace* ns) {
      const std::size_t rows = std::min(options_.metrics.top, report.destinations.size());
      for (std::size_t i = 0; i < rows; ++i) {
        out.write(output::kDestinationKind,
                  output::DestinationRow{report.destinations[i], nullptr, ns});
      }
      out.write(output::kBindPoolKind, output::BindPoolRow{report, ns});
    };
    // As `sockscope [--all-netns] ephemeral --json`: this namespace, or every one
    // with TCP or UDP sockets, each with its own range.
    if (!options_.all_namespaces) {
      write(*(*s)->ephemeral, nullptr);
    } else {
      for (const NamespaceEphemeral& n : (*s)->overview.pressure.namespaces) {
        write(n.report, &n.netns);
      }
    }
    out.finish();
  }
  return text;
}

std::expected<std::string, Error> Views::overview() {
  auto s = snapshot();
  if (!s) return std::unexpected(s.error());
  const output::HostSnapshot& snap = **s;
  const HostOverview& o = snap.overview;
  std::vector<std::string_view> hidden{"time"};
  if (!options_.owners) {
    hidden.insert(hidden.end(),
                  {"program", "processes", "owner_missing", "owners_missing", "programs"});
  }
  std::string text;
  {
    output::Sink sink(text);
    output::RecordWriter out(output::Format::kJson, sink,
                             {&output::kServedKind, &output::kRemoteServiceKind,
                              &output::kPressureKind, &output::kOverviewSummaryKind},
                             {.hidden = hidden});
    for (const ServedPort& p : o.served) out.write(output::kServedKind, output::ServedRow(p));
    for (const RemoteService& r : o.remote) {
      out.write(output::kRemoteServiceKind, output::RemoteRow(r));
    }
    const std::string how = ::geteuid() == 0 ? "" : "run as root to see them: sudo sockscope";
    for (const auto& p : output::pressure_rows(o, how)) out.write(output::kPressureKind, p);
    out.write(output::kOverviewSummaryKind,
              output::OverviewSummaryRow{o, snap.scan.source, snap.owners, snap.time_ns});
    out.finish();
  }
  return text;
}

}  // namespace sockscope::serve
