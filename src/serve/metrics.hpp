// The Prometheus families of a host snapshot (host_snapshot.hpp): the same numbers
// `sockscope serve` exposes on /metrics and `--format prometheus` writes for
// node_exporter's textfile collector. Prefix sockscope_, base units, `_total` only
// on counters, and labels with a bound: never a pid, an ephemeral port or a whole
// socket pair (README, "serve", lists every family and its bound).
//
//   MetricsOptions options{.top = 20, .min_ratio = 0.8};
//   auto families = host_families(snapshot, options, kAllFamilies);
//   std::string text = prometheus_text(families);
//
// Thread safety: pure functions of their arguments.
#pragma once

#include <prometheus/metric_family.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "output/host_snapshot.hpp"

namespace sockscope::serve {

using output::HostSnapshot;

struct MetricsOptions {
  std::size_t top = 20;    // destinations with their own ephemeral series, fullest first
  double min_ratio = 0.5;  // and every destination at least this full, up to kMaxDestinations
  static constexpr std::size_t kMaxDestinations = 1000;
};

// Which groups of families to write (the CLI's commands each write their own).
enum MetricParts : unsigned {
  kSocketFamilies = 1,     // sockscope_sockets
  kEphemeralFamilies = 2,  // ephemeral ranges, destinations, the bind(0) pool
  kListenerFamilies = 4,   // per listener: connections, accept queues
  kRemoteFamilies = 8,     // remote services
  kSelfFamilies = 16,      // collect duration
  kAllFamilies = 31,
};

std::vector<prometheus::MetricFamily> host_families(const HostSnapshot& snapshot,
                                                    const MetricsOptions& options,
                                                    unsigned parts = kAllFamilies);

// The families' text exposition format (prometheus-cpp's TextSerializer).
std::string prometheus_text(const std::vector<prometheus::MetricFamily>& families);

// "" for no service, else its name: the label value of `service`.
std::string service_label(const Service* service);

}  // namespace sockscope::serve
