// A burst of short TCP connections on loopback for bench/connlog_compare.sh:
// THREADS threads, each with its own listener (127.0.0.1:PORT+i), each opening
// and closing its share of CONNECTIONS one after the other: connect, accept,
// BYTES each way, close both. No cross-thread handoffs, so one core makes
// ~20,000 connections a second. Prints "connections seconds".
//   bench_connlog_burst CONNECTIONS [THREADS=2] [PORT=9000] [BYTES=100]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

int listen_at(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(std::uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 128) != 0) {
    std::perror("listen");
    std::exit(1);
  }
  return fd;
}

bool exchange(int to, int from, std::vector<char>& buf) {
  if (::write(to, buf.data(), buf.size()) != ssize_t(buf.size())) return false;
  std::size_t got = 0;
  while (got < buf.size()) {
    const ssize_t n = ::read(from, buf.data() + got, buf.size() - got);
    if (n <= 0) return false;
    got += std::size_t(n);
  }
  return true;
}

// Returns the connections made (fewer on an error, which is printed).
long run_share(int port, long n, std::size_t bytes) {
  const int listener = listen_at(port);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(std::uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<char> buf(bytes, 'x');
  long done = 0;
  for (; done < n; ++done) {
    const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      std::perror("connect");
      ::close(c);
      break;
    }
    const int s = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    const bool ok = s >= 0 && exchange(c, s, buf) && exchange(s, c, buf);
    ::close(c);
    if (s >= 0) ::close(s);
    if (!ok) break;
  }
  ::close(listener);
  return done;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CONNECTIONS [THREADS] [PORT] [BYTES]\n", argv[0]);
    return 2;
  }
  const long total = std::atol(argv[1]);
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  const int port = argc > 3 ? std::atoi(argv[3]) : 9000;
  const std::size_t bytes = argc > 4 ? std::size_t(std::atol(argv[4])) : 100;
  std::vector<long> made(std::size_t(threads), 0);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int i = 0; i < threads; ++i) {
    workers.emplace_back([&, i] {
      made[std::size_t(i)] = run_share(port + i, total / threads + (i < total % threads), bytes);
    });
  }
  for (auto& w : workers) w.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  long sum = 0;
  for (long m : made) sum += m;
  std::printf("%ld %.3f\n", sum, seconds);
  return sum == total ? 0 : 1;
}
