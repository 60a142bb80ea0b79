// The connection log (connection_log.hpp) run on a thread of its own for the
// server's life: each event becomes the JSON line of `sockscope --json watch`,
// kept in a ring of the latest kRing for /events (Server-Sent Events), and
// counted into the registry's connection families (closed, bytes each way,
// events lost).
//
//   EventFeed feed(options, naming, registry, report);
//   feed.start();
//   std::uint64_t next = feed.newest() + 1;      // a new client starts now
//   auto batch = feed.wait(next, 15s);           // lines from `next` on, or none
//
// A client that falls more than kRing events behind is told how many it missed
// (a `lost` event), never silently skipped.
// Thread safety: start()/stop() from one thread; wait() and newest() from any.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sockscope/connection_log.hpp"

namespace sockscope::serve {

class EventFeed {
 public:
  static constexpr std::size_t kRing = 4096;

  EventFeed(ConnectionLogOptions options, const Naming& naming, prometheus::Registry& registry,
            ReportFn report);
  ~EventFeed();
  EventFeed(const EventFeed&) = delete;
  EventFeed& operator=(const EventFeed&) = delete;

  void start();
  void stop();

  struct Batch {
    std::uint64_t first = 0;         // sequence number of lines[0]
    std::uint64_t missed = 0;        // events before `first` that fell out of the ring
    std::vector<std::string> lines;  // JSON objects, one per event
    std::vector<std::string> kinds;  // their event names (open, close, ...)
    bool stopped = false;            // the feed ended: no more will come
  };
  // Events numbered `from` on; waits up to `timeout` when there are none yet.
  Batch wait(std::uint64_t from, std::chrono::milliseconds timeout);
  // The newest event's number (0: none yet); events are numbered from 1.
  std::uint64_t newest();

 private:
  void on_event(const ConnectionEvent& e, const std::string& line);
  void count(const ConnectionEvent& e);

  ConnectionLogOptions options_;
  // Its own: the log runs on a thread of its own, and a Naming's cache serves one
  // thread at a time (the views' runs under their scan lock).
  Naming naming_;
  ReportFn report_;
  std::unique_ptr<ConnectionLog> log_;
  std::thread thread_;
  prometheus::Family<prometheus::Counter>& closed_;
  prometheus::Family<prometheus::Counter>& sent_;
  prometheus::Family<prometheus::Counter>& received_;
  prometheus::Counter& lost_;
  std::size_t lost_counted_ = 0;

  std::mutex stop_mutex_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::pair<std::string, std::string>> ring_;  // (kind, line)
  std::uint64_t newest_ = 0;
  bool stopped_ = false;
};

}  // namespace sockscope::serve
