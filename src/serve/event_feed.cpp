#include "serve/event_feed.hpp"

#include "output/kinds/connlog.hpp"
#include "output/writer.hpp"
#include "serve/metrics.hpp"

namespace sockscope::serve {
namespace {

prometheus::Family<prometheus::Counter>& counter_family(prometheus::Registry& r,
                                                        const std::string& name,
                                                        const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}

}  // namespace

EventFeed::EventFeed(ConnectionLogOptions options, const Naming& naming,
                     prometheus::Registry& registry, ReportFn report)
    : options_(std::move(options)),
      naming_(naming),
      report_(std::move(report)),
      closed_(counter_family(registry, "sockscope_connections_closed_total",
                             "Connections closed since the server started (the connection log), "
                             "by transport, this host's role and service.")),
      sent_(counter_family(registry, "sockscope_connection_sent_bytes_total",
                           "Payload bytes closed TCP connections sent (tcp_info bytes_acked).")),
      received_(counter_family(registry, "sockscope_connection_received_bytes_total",
                               "Payload bytes closed TCP connections received (tcp_info "
                               "bytes_received).")),
      lost_(counter_family(registry, "sockscope_events_lost_total",
                           "Connection-log events the kernel dropped (their closes are "
                           "recovered by a re-dump, without bytes).")
                .Add({})) {}

EventFeed::~EventFeed() { stop(); }

void EventFeed::start() {
  log_ = std::make_unique<ConnectionLog>(options_, naming_, report_);
  thread_ = std::thread([this] {
    std::string text;
    output::Sink sink(text);
    output::WriterOptions wo{.host_ephemeral = options_.host_ephemeral};
    if (!options_.owners) wo.hidden = {"processes", "owner_missing", "owner_evidence"};
    output::RecordWriter out(output::Format::kJson, sink, {&output::kConnectionEventKind}, wo);
    auto done = log_->run([&](const ConnectionEvent& e) {
      text.clear();
      out.write(output::kConnectionEventKind, output::ConnectionEventRow(e));
      out.flush();
      if (!text.empty() && text.back() == '\n') text.pop_back();
      on_event(e, text);
      const std::size_t lost = log_->summary().events_lost;
      if (lost > lost_counted_) {
        lost_.Increment(double(lost - lost_counted_));
        lost_counted_ = lost;
      }
    });
    if (!done && report_) report_(Severity::kError, "/events: " + done.error().what());
    std::lock_guard lock(mutex_);
    stopped_ = true;
    changed_.notify_all();
  });
}

void EventFeed::stop() {
  {
    std::lock_guard once(stop_mutex_);  // the signal's thread and run()'s may both stop
    if (log_) log_->stop();
    if (thread_.joinable()) thread_.join();
  }
  std::lock_guard lock(mutex_);
  stopped_ = true;
  changed_.notify_all();
}

void EventFeed::count(const ConnectionEvent& e) {
  if (e.kind != ConnectionEventKind::kClose) return;
  const prometheus::Labels labels{{"role", std::string(to_string(e.role))},
                                  {"service", serve::service_label(e.service)},
                                  {"transport", std::string(to_string(e.record.transport))}};
  closed_.Add(labels).Increment();
  if (e.counters) {
    sent_.Add(labels).Increment(double(e.counters->sent_bytes));
    received_.Add(labels).Increment(double(e.counters->received_bytes));
  }
}

void EventFeed::on_event(const ConnectionEvent& e, const std::string& line) {
  count(e);
  std::lock_guard lock(mutex_);
  ring_.emplace_back(std::string(to_string(e.kind)), line);
  if (ring_.size() > kRing) ring_.pop_front();
  ++newest_;
  changed_.notify_all();
}

std::uint64_t EventFeed::newest() {
  std::lock_guard lock(mutex_);
  return newest_;
}

EventFeed::Batch EventFeed::wait(std::uint64_t from, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return stopped_ || newest_ >= from; });
  Batch b;
  b.stopped = stopped_;
  const std::uint64_t oldest = newest_ - ring_.size() + 1;  // number of ring_.front()
  b.first = std::max(from, oldest);
  if (from < oldest) b.missed = oldest - from;
  for (std::uint64_t n = b.first; n <= newest_; ++n) {
    const auto& [kind, line] = ring_[n - oldest];
    b.kinds.push_back(kind);
    b.lines.push_back(line);
  }
  return b;
}

}  // namespace sockscope::serve
