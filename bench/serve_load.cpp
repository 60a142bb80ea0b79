// Load on `sockscope serve` for bench/serve.sh:
//   bench_serve_load HOST PORT CLIENTS SECONDS PATH
// CLIENTS threads, each with its own keep-alive connection, GET PATH in a loop
// for SECONDS; prints "requests errors p50_ms p99_ms max_ms".
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s HOST PORT CLIENTS SECONDS PATH\n", argv[0]);
    return 2;
  }
  const std::string host = argv[1], path = argv[5];
  const int port = std::atoi(argv[2]), clients = std::atoi(argv[3]);
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(std::atoi(argv[4]));
  std::mutex mutex;
  std::vector<double> latencies;
  std::atomic<long> errors{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      httplib::Client client(host, port);
      client.set_keep_alive(true);
      client.set_read_timeout(60);
      std::vector<double> mine;
      while (std::chrono::steady_clock::now() < end) {
        const auto t0 = std::chrono::steady_clock::now();
        auto res = client.Get(path);
        const auto t1 = std::chrono::steady_clock::now();
        if (!res || res->status != 200) ++errors;
        mine.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
      std::lock_guard lock(mutex);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  std::sort(latencies.begin(), latencies.end());
  auto at = [&](double q) {
    return latencies.empty() ? 0.0 : latencies[std::size_t(q * double(latencies.size() - 1))];
  };
  std::printf("%zu %ld %.1f %.1f %.1f\n", latencies.size(), errors.load(), at(0.5), at(0.99),
              latencies.empty() ? 0.0 : latencies.back());
  return errors.load() ? 1 : 0;
}
