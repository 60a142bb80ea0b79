// The connection log's memory per live socket: a log runs in this process (run
// it in a namespace of its own: bench/connlog_compare.sh does), PAIRS loopback
// connections are opened and held until the log has seen every socket open,
// and the resident size grows by its state for them. Printed: the growth per
// socket as measured (and after malloc_trim, i.e. what is retained once the
// re-dump's transient table is returned), the heap bytes in use per socket
// (mallinfo2 with one arena: the log's state itself), and the structures' sizes.
//   bench_connlog_memory [PAIRS=9000]   (2 sockets a pair; 20,000 descriptors per process)
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <thread>
#include <vector>

#include "host/connection_table.hpp"
#include "sockscope/connection_log.hpp"
#include "sockscope/registry.hpp"

namespace {

std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * std::size_t(::sysconf(_SC_PAGESIZE));
}

void wait_for(const std::atomic<std::size_t>& n, std::size_t want) {
  for (int i = 0; i < 3000 && n.load() < want; ++i) ::usleep(1'000);
}

std::size_t heap_in_use() { return mallinfo2().uordblks; }

}  // namespace

int main(int argc, char** argv) {
  // One arena: mallinfo2() then counts every thread's allocations.
  ::mallopt(M_ARENA_MAX, 1);
  const std::size_t pairs = argc > 1 ? std::size_t(std::atol(argv[1])) : 9000;
  sockscope::Registry registry;
  sockscope::Naming naming(registry);
  sockscope::ConnectionLog log({.udp = false,
                                .owners = false,
                                .tracer = sockscope::ConnectionLogOptions::Tracer::kOff,
                                .redump_interval = std::chrono::milliseconds(2000)},
                               naming);
  std::atomic<std::size_t> opens{0}, closes{0};
  std::promise<void> ready;
  std::thread watcher([&] {
    (void)log.run(
        [&](const sockscope::ConnectionEvent& e) {
          if (e.kind == sockscope::ConnectionEventKind::kOpen) ++opens;
          if (e.kind == sockscope::ConnectionEventKind::kClose) ++closes;
        },
        [&] { ready.set_value(); });
  });
  ready.get_future().wait();
  ::usleep(300'000);
  ::malloc_trim(0);
  const std::size_t before = resident_bytes();
  const std::size_t heap_before = heap_in_use();
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(9100);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listener, 4096)) {
    std::perror("listen");
    return 1;
  }
  std::vector<int> fds;
  for (std::size_t i = 0; i < pairs; ++i) {
    const int c = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) break;
    fds.push_back(c);
    fds.push_back(::accept(listener, nullptr, nullptr));
  }
  wait_for(opens, fds.size());
  // Between two re-dumps (2 s apart): the dump's own table of records is freed,
  // what is measured is the state the log keeps.
  ::usleep(300'000);
  const std::size_t held = resident_bytes();
  const std::size_t heap_held = heap_in_use();
  ::malloc_trim(0);
  const std::size_t retained = resident_bytes();
  const double n = double(fds.size());
  std::printf("sockets %zu opens_seen %zu\n", fds.size(), opens.load());
  std::printf("rss_growth_per_socket %.0f\n", double(held - before) / n);
  std::printf("retained_per_socket %.0f\n", double(retained - before) / n);
  std::printf("heap_in_use_per_socket %.0f\n", (double(heap_held) - double(heap_before)) / n);
  std::printf("sizeof_live %zu node_overhead %zu\n", sizeof(sockscope::host_detail::Live),
              sizeof(void*) * 2 + sizeof(std::uint64_t));
  for (int fd : fds) ::close(fd);
  wait_for(closes, fds.size());
  std::printf("closes_seen %zu\n", closes.load());
  log.stop();
  watcher.join();
  return 0;
}
