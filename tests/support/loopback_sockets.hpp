// TCP sockets on 127.0.0.1 of the calling thread's network namespace, for tests
// that make connections to see them counted (run them inside TestNetns::run).
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <vector>

namespace sockscope::testing {

inline sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(std::uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// A listener on 127.0.0.1:PORT.
inline int listen_on(int port, int backlog) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = loopback(port);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(listen(fd, backlog), 0);
  return fd;
}

// A TCP socket bound to 127.0.0.1 on a port the kernel picks (written to `port`) and
// never listening: a connection there is refused, and while it is held no other socket
// can take the port (one only found free and closed again can be taken by a test
// running beside this one). -1 on failure.
inline int refusing_port(std::uint16_t& port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = loopback(0);
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  port = ntohs(a.sin_port);
  return fd;
}

// One connection to a new listener on 127.0.0.1:PORT: 5 bytes from the client,
// then both close, the client first or (server_first) the server, whose side
// then keeps the TIME-WAIT (taking no client port).
inline void exchange_and_close(int port, bool server_first) {
  const int l = listen_on(port, 4);
  sockaddr_in a = loopback(port);
  const int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  const int s = accept(l, nullptr, nullptr);
  ASSERT_EQ(send(c, "hello", 5, 0), 5);
  char buf[8];
  ASSERT_EQ(recv(s, buf, 5, MSG_WAITALL), 5);
  if (server_first) {
    close(s);
    EXPECT_EQ(recv(c, buf, sizeof buf, 0), 0);  // the server's FIN
    close(c);
  } else {
    close(c);
    close(s);
  }
  close(l);
}

// Ephemeral ports of a test namespace, most of them taken: a 10-port range
// (40000-40009), a listener on 127.0.0.1:8000 (backlog 16) and `count`
// connections to it, never accepted (`count` of 10 ports toward that destination,
// `count` waiting in the accept queue). Returns the listener; the connections'
// sockets are added to `clients`.
inline int hold_ephemeral_ports(int count, std::vector<int>& clients) {
  std::ofstream("/proc/sys/net/ipv4/ip_local_port_range") << "40000 40009";
  const int listener = listen_on(8000, 16);
  sockaddr_in a = loopback(8000);
  for (int i = 0; i < count; ++i) {
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_EQ(connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    clients.push_back(c);
  }
  return listener;
}

}  // namespace sockscope::testing
