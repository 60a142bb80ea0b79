// Real sockets on loopback for the host tests: each test process uses its own
// 127.x.y.z addresses (derived from its pid) and kernel-chosen ports, so suites
// running in parallel never see each other's sockets in their assertions.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sockscope/endpoint.hpp"
#include "sockscope/socket_table.hpp"

namespace sockscope::testing {

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept;
  ~Fd();
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset();

 private:
  int fd_ = -1;
};

// 127.A.B.n: A and B from the pid, n = 1..250 chosen by the caller.
IpAddress own_v4(int n);
IpAddress v6_loopback();

// `ep` as a sockaddr_in or sockaddr_in6 in `ss`; returns its length.
socklen_t to_sockaddr(const Endpoint& ep, sockaddr_storage& ss);

// The socket's local endpoint (getsockname).
Endpoint local_of(int fd);

// socket + bind (port 0 = kernel chooses) + listen(backlog); an IPv6 socket gets
// IPV6_V6ONLY set to `v6only` when given. Failures fail the test.
Fd tcp_listen(const Endpoint& at, int backlog = 64, std::optional<bool> v6only = std::nullopt);
// connect() from an unbound socket (autobound), or after bind() to `from`.
Fd tcp_connect(const Endpoint& to, const Endpoint* from = nullptr);
// A non-blocking connect() that does not wait for the handshake (EINPROGRESS).
Fd tcp_connect_started(const Endpoint& to);
Fd tcp_accept(int listener);
Fd udp_bind(const Endpoint& at, std::optional<bool> v6only = std::nullopt);
// A UDP socket connect()ed to `to` (autobound local port).
Fd udp_connect(const Endpoint& to);

// The records of `table` whose local or remote address is `address`.
std::vector<SocketRecord> involving(const std::vector<SocketRecord>& table,
                                    const IpAddress& address);

// One raw SOCK_DIAG_BY_FAMILY dump of (family, IPPROTO_TCP/UDP, every state)
// carrying `program` as INET_DIAG_REQ_BYTECODE (no attribute when empty): the
// sockets as the kernel returned them (transport, state, endpoints). A refused
// program fails the test.
std::vector<SocketRecord> raw_diag_dump(int family, int protocol,
                                        std::span<const std::uint8_t> program);

// "tcp ESTAB 127.1.2.3:40000 127.1.2.3:50000": a comparable key.
std::string key_of(const SocketRecord& r);

}  // namespace sockscope::testing
