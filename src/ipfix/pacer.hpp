// A token bucket that paces a sender to a rate in bytes a second. Internal.
//
//   Pacer pacer(40'000'000);
//   if (was_idle) pacer.rest();
//   pacer.wait(first.size());                      // sleeps until it may go
//   while (more && pacer.try_take(next.size())) ...  // what the credit allows at once
//
// Credit accrues for the time actually elapsed, so a wake-up that comes late (the
// thread waited for a core) is made up by the next messages instead of lowering
// the rate; it is bounded by burst(), the larger of 64 kB and 10 ms at the rate.
// A sender that was idle keeps at most 64 kB (rest()): a quiet spell is no reason
// for a burst into a collector's buffer. Rate 0: unpaced.
// Thread safety: one thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace sockscope::ipfix {

class Pacer {
 public:
  explicit Pacer(std::uint64_t bytes_per_second);
  // Waits until the credit covers `bytes` (at most burst()), then takes them.
  void wait(std::size_t bytes);
  // Takes `bytes` if the credit covers them now; false (nothing taken) otherwise.
  bool try_take(std::size_t bytes);
  // The sender had nothing to send until now: credit beyond kIdleBurst is dropped.
  void rest();
  double burst() const { return burst_; }
  static constexpr double kIdleBurst = 64 * 1024;

 private:
  void refill();
  double rate_;
  double burst_;
  double credit_;  // bytes; negative after a message larger than the burst
  std::chrono::steady_clock::time_point last_;
};

}  // namespace sockscope::ipfix
