// The connection log's state, shared by its three parts: connection_log.cpp
// (namespaces, the loop, run()), connection_diff.cpp (the re-dump diff, destroy
// messages, owners, events) and connection_trace.cpp (the state tracer's
// records). Internal to the host layer; one thread (run()'s) uses it.
#pragma once

#include <atomic>
#include <cstdint>
#include <expected>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "host/connection_table.hpp"
#include "host/destroy_listener.hpp"
#include "host/state_tracer.hpp"
#include "sockscope/connection_log.hpp"

namespace sockscope {

namespace host_detail {
// Now, nanoseconds since the Unix epoch.
std::int64_t now_ns();
// An endpoint from the kernel's 4 (AF_INET) or 16 address bytes.
Endpoint endpoint_of(std::uint8_t family, const std::uint8_t* address, Port port);
}  // namespace host_detail

struct ConnectionLog::State {
  using Live = host_detail::Live;
  using DiagMessage = host_detail::DiagMessage;
  State(ConnectionLogOptions o, const Naming& n, ReportFn r, std::atomic<bool>& s)
      : options(std::move(o)), naming(n), report(std::move(r)), stop(s) {}

  struct Space {
    NetworkNamespace ns;
    host_detail::DestroyListener destroys;
    std::unique_ptr<SocketSource> source;
    std::uint64_t drops = 0;  // the kernel's count when last read
    bool overflowed = false;  // since the last re-dump
  };

  ConnectionLogOptions options;
  const Naming& naming;
  ReportFn report;
  std::atomic<bool>& stop;
  std::list<Space> spaces;  // stable addresses: events point at their namespace
  std::unordered_map<std::uint64_t, Live> live;
  host_detail::ListenerMap listeners;
  host_detail::OwnerSets sets;
  host_detail::ProcessCache processes;
  // Cookies closed from a re-dump, with the time: a destroy message that was late
  // rather than lost must not close them twice.
  std::unordered_map<std::uint64_t, std::int64_t> recovered;
  ConnectionLogSummary summary;
  // The state tracer, when it runs: the process behind each connect() until its
  // socket is established or gone, and the clock that turns its times into ours.
  std::optional<host_detail::StateTracer> tracer;
  struct Connecting {
    std::uint32_t tgid, uid;
    char comm[16];
    std::int64_t since = 0;  // when the SYN was sent
  };
  std::unordered_map<std::uint64_t, Connecting> connecting;
  // The counters the tracer took at each TCP socket's CLOSE, until its destroy
  // message comes (an abort clears the kernel's copy in between).
  struct Closing {
    host_detail::TcpCounters counters;
    std::int64_t since = 0;
  };
  std::unordered_map<std::uint64_t, Closing> closing;
  std::int64_t monotonic_to_real = 0;
  std::uint64_t ring_lost = 0;  // the tracer's count when last read
  std::uint32_t generation = 0;
  const Sink* sink = nullptr;
  const std::function<void()>* batch_done = nullptr;
  std::size_t emitted_at_batch = 0;  // events when batch_done last ran
  std::vector<ConnectionOwner> owners_scratch;
  std::int64_t deadline_ns = 0;

  void warn(const std::string& message) const {
    if (report) report(Severity::kWarning, message);
  }
  std::size_t events() const {
    return summary.opens + summary.closes + summary.listens + summary.unlistens;
  }
  bool done() const {
    if (stop.load(std::memory_order_relaxed)) return true;
    return options.max_events && events() >= options.max_events;
  }

  std::vector<NetworkNamespace> namespaces_to_watch() const;
  std::expected<Space*, Error> add_space(NetworkNamespace ns);
  std::expected<void, Error> open_spaces();
  void refresh_spaces();
  std::expected<void, Error> open_tracer();
  Space* space_of(std::uint64_t netns);
  bool consume_tracer();
  void on_change(const host_detail::StateChange& c);
  void on_established(Space& space, const host_detail::StateChange& c, std::int64_t t);
  void on_listen(Space& space, const host_detail::StateChange& c, std::int64_t t);
  void owner_from_connect(Live& l, std::uint64_t cookie);
  std::expected<void, Error> dump_space(Space& space, bool baseline);
  void resolve_owners(const std::vector<std::uint64_t>& fresh);
  void inherit_owner(Live& l);
  void owner_from_scan(Live& l, std::uint64_t cookie, const ProcessOwners* scanned);
  void close_missing(Space& space, std::int64_t now);
  void on_destroy(Space& space, const DiagMessage& m);
  void on_unknown_destroy(Space& space, const DiagMessage& m, std::int64_t now);
  void emit(ConnectionEventKind kind, const Live& l, std::uint64_t cookie, std::int64_t t,
            const NetworkNamespace& ns, std::optional<ConnectionCounters> counters, bool lost,
            bool counters_cleared = false);
  std::optional<ConnectionCounters> close_counters(const Live& l, const DiagMessage& m,
                                                   bool& cleared);
  void forget(std::unordered_map<std::uint64_t, Live>::iterator it);
  std::expected<void, Error> drain(Space& space);
  std::expected<void, Error> redump();
  std::expected<void, Error> loop();
};

}  // namespace sockscope
