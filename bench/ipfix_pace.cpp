// The UDP exporter's pace in effect, apart from any capture: RECORDS records made
// beforehand go to an exporter paced at RATE bytes a second (0: unpaced) as fast as
// it takes them, and a receiver thread on loopback (4 MB buffer) counts what
// arrives. Prints the time from open() to finish() and the rate in effect, at the
// sender and between the first and the last datagram received.
//   bench_ipfix_pace RATE [RECORDS=1150000]   (1.15 M records: 55 MB, the bench file's)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "sockscope/ipfix.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Received {
  long datagrams = 0, bytes = 0;
  Clock::time_point first, last;
};

// Datagrams on `fd` until 1 s of silence after the first.
Received receive(int fd) {
  Received r;
  std::vector<char> buf(70000);
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, r.datagrams ? 1000 : 30000) != 1) return r;
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) return r;
    r.last = Clock::now();
    if (!r.datagrams++) r.first = r.last;
    r.bytes += n;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_ipfix_pace RATE [RECORDS]\n");
    return 2;
  }
  const std::uint64_t rate = std::strtoull(argv[1], nullptr, 10);
  const std::size_t n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1'150'000;
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const int buffer = 4 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(sa);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
    std::perror("bench_ipfix_pace: receiver");
    return 1;
  }
  sockscope::FlowRecord base;
  base.pair = *sockscope::SocketPair::parse("udp 127.0.0.1:40000 127.0.0.2:53");
  std::vector<sockscope::FlowRecord> flows(n, base);
  for (std::size_t i = 0; i < n; ++i) {
    flows[i].pair.first.port = std::uint16_t(1024 + i % 60000);
    flows[i].packets = i + 1;
    flows[i].octets = 100 * (i + 1);
  }
  Received got;
  std::thread receiver([&] { got = receive(fd); });
  sockscope::IpfixOptions o;
  o.udp_bytes_per_second = rate;
  const auto start = Clock::now();
  auto e =
      sockscope::IpfixExporter::open("udp://127.0.0.1:" + std::to_string(ntohs(sa.sin_port)), o);
  if (!e) {
    std::fprintf(stderr, "bench_ipfix_pace: %s\n", e.error().what().c_str());
    ::shutdown(fd, SHUT_RDWR);
    receiver.join();
    return 1;
  }
  for (const auto& f : flows) (*e)->add(f);
  const sockscope::IpfixStats s = (*e)->finish();
  const double sent = std::chrono::duration<double>(Clock::now() - start).count();
  receiver.join();
  const double span = std::chrono::duration<double>(got.last - got.first).count();
  std::printf(
      "%zu messages sent in %.3f s; received %ld datagrams, %.1f MB in %.3f s: %.1f MB/s "
      "(asked: %.1f MB/s)\n",
      std::size_t(s.messages), sent, got.datagrams, got.bytes / 1e6, span,
      span > 0 ? got.bytes / span / 1e6 : 0.0, rate / 1e6);
  ::close(fd);
  return s.dropped ? 1 : 0;
}
