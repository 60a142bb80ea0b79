// The --ipfix options that `conversations` and `watch` share: where records go,
// biflow or two uniflows, the UDP template refresh; opening the exporter and
// reporting what it delivered.
#pragma once

#include <CLI/CLI.hpp>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cli/context.hpp"
#include "sockscope/ipfix.hpp"

namespace sockscope::cli {

struct IpfixFlags {
  std::string destination;  // empty: no export
  bool biflow = false;
  double template_refresh = 600;    // seconds
  std::uint64_t rate = 20'000'000;  // UDP: bytes a second (0: unpaced)
};

void add_ipfix_options(CLI::App* sub, IpfixFlags& flags);

// Checks the destination (a usage error names it: exit 2); 0 when fine.
int check_ipfix(Context& ctx, const IpfixFlags& flags);

// The exporter, or null when none is asked for or it could not be opened (the
// error is reported; `failed` is set and the local output goes on).
std::unique_ptr<IpfixExporter> open_ipfix(Context& ctx, const IpfixFlags& flags, bool& failed);

// Finishes the export: "; IPFIX: N records in M messages to DEST" for the summary;
// undelivered records are reported as an error line and set `failed`.
std::string finish_ipfix(Context& ctx, const IpfixFlags& flags, IpfixExporter* exporter,
                         bool& failed);

// The exporter as the reading thread feeds it, and, while a pipe is read, a timer
// thread that flushes it every second too: a pipe's reader blocks between
// packets, so its own tick would not come while the pipe is quiet.
class IpfixFeed {
 public:
  explicit IpfixFeed(IpfixExporter* exporter) : exporter_(exporter) {}
  ~IpfixFeed() { stop_timer(); }
  explicit operator bool() const { return exporter_ != nullptr; }
  void add(const Conversation& c) {
    std::lock_guard lock(mutex_);
    exporter_->add(c);
  }
  void flush() {
    std::lock_guard lock(mutex_);
    exporter_->flush();
  }
  // REQUIRES: an exporter; the timer not running.
  void start_timer();
  void stop_timer();

 private:
  IpfixExporter* exporter_;
  std::mutex mutex_;
  std::condition_variable stop_;
  bool stopping_ = false;
  std::thread timer_;
};

}  // namespace sockscope::cli
