#include "cli/watch.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>

namespace sockscope::cli::watch {
namespace {

std::atomic<bool> g_interrupted{false};
void on_signal(int) { g_interrupted = true; }

}  // namespace

void catch_interrupts() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

bool pause(double seconds) {
  for (double slept = 0; slept < seconds && !g_interrupted; slept += 0.1) {
    ::poll(nullptr, 0, int(std::min(100.0, (seconds - slept) * 1000)));
  }
  return !g_interrupted;
}

bool interrupted() { return g_interrupted; }

std::string stamp() {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  return fmt::format("-- {:%H:%M:%S}", fmt::localtime(now));
}

}  // namespace sockscope::cli::watch
