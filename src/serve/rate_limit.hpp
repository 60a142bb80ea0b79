// A token bucket per client address: `rate` requests a second on average, bursts
// of up to `burst`. Addresses beyond kMaxClients start the table afresh (a flood
// of addresses cannot grow it without bound).
// Thread safety: allow() may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace sockscope::serve {

class RateLimit {
 public:
  static constexpr std::size_t kMaxClients = 4096;
  RateLimit(double rate, double burst) : rate_(rate), burst_(burst) {}
  // Whether a request from `client` at `now` may be served (and takes its token).
  bool allow(const std::string& client,
             std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  double rate_, burst_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace sockscope::serve
