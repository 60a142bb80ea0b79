#include "host/connection_burst.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "host/loopback.hpp"

namespace sockscope::testing {
namespace {

std::uint64_t write_all(int fd, std::size_t n) {
  static const std::vector<char> data(8192, 'x');
  std::uint64_t sent = 0;
  while (sent < n) {
    const ssize_t w = ::write(fd, data.data(), std::min(data.size(), n - std::size_t(sent)));
    if (w <= 0) break;
    sent += std::uint64_t(w);
  }
  return sent;
}

std::uint64_t read_to_end(int fd) {
  char buf[8192];
  std::uint64_t got = 0;
  for (;;) {
    const ssize_t r = ::read(fd, buf, sizeof buf);
    if (r <= 0) return got;
    got += std::uint64_t(r);
  }
}

}  // namespace

std::uint64_t cookie_of(int fd) {
  std::uint64_t cookie = 0;
  socklen_t len = sizeof cookie;
  if (::getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) != 0) return 0;
  return cookie;
}

std::vector<BurstConnection> run_burst(int listener_fd, const Endpoint& server, std::size_t n) {
  std::vector<BurstConnection> out(n);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::thread acceptor([&] {
    for (std::size_t i = 0; i < n && std::chrono::steady_clock::now() < give_up; ++i) {
      Fd s = tcp_accept(listener_fd);
      if (s.get() < 0) break;
      BurstConnection& c = out[i];
      c.server_cookie = cookie_of(s.get());
      c.server = local_of(s.get());
      c.server_received = read_to_end(s.get());
      c.server_sent = write_all(s.get(), std::size_t(c.server_received * 2 + 1));
    }
  });
  std::size_t done = 0;
  for (; done < n && std::chrono::steady_clock::now() < give_up; ++done) {
    Fd c = tcp_connect(server);
    if (c.get() < 0) break;
    BurstConnection& b = out[done];
    b.client_cookie = cookie_of(c.get());
    b.client = local_of(c.get());
    b.client_sent = write_all(c.get(), 1 + (done * 7919) % 3000);
    ::shutdown(c.get(), SHUT_WR);
    b.client_received = read_to_end(c.get());
  }
  acceptor.join();
  out.resize(done);
  return out;
}

}  // namespace sockscope::testing
