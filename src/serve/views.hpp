// What the server's endpoints answer, as text: the Prometheus exposition and the
// JSON Lines records of the CLI's --json. Host scans run one at a time; a
// collection asked for while another runs waits for it and shares its result
// (a crowd of scrapers costs one scan at a time, never a queue of them).
// Thread safety: every method may be called from any thread.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <expected>
#include <memory>
#include <mutex>
#include <string>

#include "output/host_snapshot.hpp"
#include "serve/metrics.hpp"
#include "serve/server.hpp"

namespace sockscope::serve {

class Views {
 public:
  Views(const ServeOptions& options, const Naming& naming, ReportFn report);
  ~Views();

  std::expected<std::string, Error> metrics();
  std::expected<std::string, Error> sockets(bool listeners_only);
  std::expected<std::string, Error> ephemeral();
  std::expected<std::string, Error> overview();
  // The registry of the server's own counters (the event feed adds its own).
  prometheus::Registry& registry() { return *registry_; }

 private:
  class HostCollector;
  using Snapshot = std::shared_ptr<const output::HostSnapshot>;
  std::expected<Snapshot, Error> snapshot();
  void count_owner_failures(const output::HostSnapshot& s);

  const ServeOptions& options_;
  const Naming& naming_;
  ReportFn report_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* owner_failures_ = nullptr;
  std::mutex scan_mutex_;  // one host scan at a time
  // The last collection, kept only for requests that were waiting while it ran
  // (one that asks later collects anew): an idle server holds none.
  Snapshot last_;
  std::atomic<int> waiting_{0};
  std::chrono::steady_clock::time_point last_started_;
};

}  // namespace sockscope::serve
