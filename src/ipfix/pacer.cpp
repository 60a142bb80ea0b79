#include "ipfix/pacer.hpp"

#include <algorithm>
#include <thread>

namespace sockscope::ipfix {

Pacer::Pacer(std::uint64_t bytes_per_second)
    : rate_(double(bytes_per_second)),
      burst_(std::max(kIdleBurst, rate_ * 0.010)),
      credit_(kIdleBurst),
      last_(std::chrono::steady_clock::now()) {}

void Pacer::refill() {
  const auto now = std::chrono::steady_clock::now();
  credit_ = std::min(burst_, credit_ + rate_ * std::chrono::duration<double>(now - last_).count());
  last_ = now;
}

void Pacer::rest() {
  refill();
  credit_ = std::min(credit_, kIdleBurst);
}

void Pacer::wait(std::size_t bytes) {
  if (rate_ <= 0) return;
  const double need = std::min(double(bytes), burst_);
  for (refill(); credit_ < need; refill()) {
    std::this_thread::sleep_for(std::chrono::duration<double>((need - credit_) / rate_));
  }
  credit_ -= double(bytes);
}

bool Pacer::try_take(std::size_t bytes) {
  if (rate_ <= 0) return true;
  refill();
  if (credit_ < double(bytes)) return false;
  credit_ -= double(bytes);
  return true;
}

}  // namespace sockscope::ipfix
