// golden_fixture: the fixed set of loopback sockets that the golden-output test
// (tests/golden/run.sh) shows through the host commands. run.sh starts it inside a
// network namespace of its own; it opens every socket below, waits until the
// kernel has no connection in a transitional state left, prints "ready" and holds
// the sockets until it is killed (or 120 s have passed: a run that lost track of it
// does not leave it behind). Single-threaded. Plain POSIX rather than
// tests/host/loopback.hpp, whose helpers report through GoogleTest and pick
// per-process addresses: here every address and fixed port is part of the output.
//
// Ports are fixed except where the kernel's choice is the point (autobound
// clients, "auto" below). Those vary per run: the fixture prints them on a line
// "autobound PORT..." before "ready" and run.sh masks exactly those. All autobound
// TCP clients go to one destination, so the kernel never gives two of them one
// port (it may across destinations, which would change the bind(0) pool count).
//   tcp 127.0.0.1:8000 listener, 3 accepted connections from auto ports, and a
//       TIME-WAIT left by a client (auto port) that closed first
//   tcp [::]:5432 dual-stack listener, accepted connections from 127.0.0.1:50003
//       (shown as ::ffff:127.0.0.1) and [::1]:50004 (bound)
//   tcp 127.0.0.1:40404 listener: a port inside the namespace's ephemeral range
//       40000-40999 that IANA names (sptx), held by an explicit bind
//   tcp 0.0.0.0:22 listener
//   tcp 127.0.0.1:80 listener, accepted connection from 127.0.0.1:1099 (bound)
//   tcp 127.0.0.1:3306 listener, backlog 2, connections from 127.0.0.1:50001 and
//       :50002 (bound) never accepted: RECV-Q 2
//   udp 0.0.0.0:53 unconnected, udp from an auto port connected to 127.0.0.1:53
//   udp [::1]:5353 unconnected
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr auto kLifetime = std::chrono::seconds(120);
constexpr int kSettleTries = 500;  // of 10 ms each
constexpr std::uint16_t kAutoPort = 0;
constexpr std::uint16_t kInRangeListener = 40404;
constexpr int kUdpTries = 20;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "golden_fixture: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_UNSPEC;
};

Address address_of(const char* text, std::uint16_t port) {
  Address a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
  if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
    v4->sin_family = a.family = AF_INET;
    v4->sin_port = htons(port);
    a.length = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
    v6->sin6_family = a.family = AF_INET6;
    v6->sin6_port = htons(port);
    a.length = sizeof(sockaddr_in6);
  } else {
    errno = EINVAL;
    die(std::string("address ") + text);
  }
  return a;
}

std::string name_of(const Address& a) {
  char text[INET6_ADDRSTRLEN] = "?";
  std::uint16_t port = 0;
  if (a.family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&a.storage);
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
    port = ntohs(v4->sin_port);
  } else {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a.storage);
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    port = ntohs(v6->sin6_port);
  }
  return std::string(text) + " port " + std::to_string(port);
}

int open_bound(int type, const char* at, std::uint16_t port, bool v6only = true) {
  const Address a = address_of(at, port);
  const int fd = ::socket(a.family, type, 0);
  if (fd < 0) die("socket");
  const int one = 1, only = v6only ? 1 : 0;
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) die("SO_REUSEADDR");
  if (a.family == AF_INET6 &&
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof only) != 0) {
    die("IPV6_V6ONLY");
  }
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&a.storage), a.length) != 0) {
    die("bind " + name_of(a));
  }
  return fd;
}

int tcp_listen(const char* at, std::uint16_t port, int backlog = 16, bool v6only = true) {
  const int fd = open_bound(SOCK_STREAM, at, port, v6only);
  if (::listen(fd, backlog) != 0) die("listen");
  return fd;
}

std::uint16_t local_port(int fd) {
  sockaddr_storage a{};
  socklen_t length = sizeof a;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &length) != 0) die("getsockname");
  const auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
  const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
  return ntohs(a.ss_family == AF_INET ? v4->sin_port : v6->sin6_port);
}

// From an autobound port unless `from` is given (bind before connect).
int connect_to(int type, const char* to, std::uint16_t port, const char* from = nullptr,
               std::uint16_t from_port = kAutoPort) {
  const Address a = address_of(to, port);
  const int fd = from ? open_bound(type, from, from_port) : ::socket(a.family, type, 0);
  if (fd < 0) die("socket");
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a.storage), a.length) != 0) {
    die("connect " + name_of(a));
  }
  return fd;
}

int tcp_connect(const char* to, std::uint16_t port, const char* from = nullptr,
                std::uint16_t from_port = kAutoPort) {
  return connect_to(SOCK_STREAM, to, port, from, from_port);
}

int tcp_accept(int listener) {
  const int fd = ::accept(listener, nullptr, nullptr);
  if (fd < 0) die("accept");
  return fd;
}

// The client closes first and so keeps the TIME-WAIT; both sides have seen the
// other's FIN before they close, so only the server's last ACK is still in flight.
// Returns the client's (autobound) port.
std::uint16_t leave_time_wait(int listener, const char* to, std::uint16_t port) {
  const int client = tcp_connect(to, port);
  const std::uint16_t client_port = local_port(client);
  const int server = tcp_accept(listener);
  char byte;
  if (::shutdown(client, SHUT_WR) != 0) die("shutdown");
  if (::read(server, &byte, 1) != 0) die("server: expected end of stream");
  ::close(server);
  if (::read(client, &byte, 1) != 0) die("client: expected end of stream");
  ::close(client);
  return client_port;
}

// UDP ports are apart from TCP's, so the kernel may pick the TCP listener's fixed
// port for this one: that port would then be masked too. Pick again (closing a
// UDP socket leaves nothing behind).
int udp_connect_autobound(const char* to, std::uint16_t port) {
  for (int i = 0; i < kUdpTries; ++i) {
    const int fd = connect_to(SOCK_DGRAM, to, port);
    if (local_port(fd) != kInRangeListener) return fd;
    ::close(fd);
  }
  errno = EADDRINUSE;
  die("UDP autobound port keeps landing on the fixed listener's");
}

// True when /proc/net/tcp{,6} list a connection in SYN-SENT, SYN-RECV, FIN-WAIT-1/2,
// CLOSE-WAIT, LAST-ACK or CLOSING: something a dump could catch mid-way.
bool transitional_left() {
  for (const char* path : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(path);
    std::string line, sl, local, remote, state;
    std::getline(in, line);  // header
    while (in >> sl >> local >> remote >> state) {
      if (state != "01" && state != "06" && state != "0A") return true;
      std::getline(in, line);
    }
  }
  return false;
}

void wait_settled() {
  for (int i = 0; i < kSettleTries; ++i) {
    if (!transitional_left()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  errno = ETIMEDOUT;
  die("connections did not settle");
}

struct Fixture {
  std::vector<int> held;
  std::vector<std::uint16_t> autobound;
};

Fixture open_sockets() {
  Fixture f;
  auto& held = f.held;
  // First: the port lies in the range the autobound clients below draw from.
  held.push_back(tcp_listen("127.0.0.1", kInRangeListener));
  const int web = tcp_listen("127.0.0.1", 8000);
  held.push_back(web);
  f.autobound.push_back(leave_time_wait(web, "127.0.0.1", 8000));
  for (int i = 0; i < 3; ++i) {
    held.push_back(tcp_connect("127.0.0.1", 8000));
    f.autobound.push_back(local_port(held.back()));
    held.push_back(tcp_accept(web));
  }
  const int dual = tcp_listen("::", 5432, 16, /*v6only=*/false);
  held.push_back(dual);
  held.push_back(tcp_connect("127.0.0.1", 5432, "127.0.0.1", 50003));
  held.push_back(tcp_accept(dual));
  held.push_back(tcp_connect("::1", 5432, "::1", 50004));
  held.push_back(tcp_accept(dual));
  held.push_back(tcp_listen("0.0.0.0", 22));
  const int http = tcp_listen("127.0.0.1", 80);
  held.push_back(http);
  held.push_back(tcp_connect("127.0.0.1", 80, "127.0.0.1", 1099));
  held.push_back(tcp_accept(http));
  held.push_back(tcp_listen("127.0.0.1", 3306, /*backlog=*/2));
  held.push_back(tcp_connect("127.0.0.1", 3306, "127.0.0.1", 50001));
  held.push_back(tcp_connect("127.0.0.1", 3306, "127.0.0.1", 50002));
  held.push_back(open_bound(SOCK_DGRAM, "0.0.0.0", 53));
  held.push_back(udp_connect_autobound("127.0.0.1", 53));
  f.autobound.push_back(local_port(held.back()));
  held.push_back(open_bound(SOCK_DGRAM, "::1", 5353));
  return f;
}

}  // namespace

int main() {
  // Descriptors inherited from the caller would shift the fixture's own, which
  // sockets -p shows ("golden_fixture:fd5").
  if (::close_range(3, ~0U, 0) != 0) die("close_range");
  const Fixture f = open_sockets();
  wait_settled();
  std::printf("autobound");
  for (const std::uint16_t port : f.autobound) std::printf(" %u", unsigned{port});
  std::printf("\nready\n");
  std::fflush(stdout);
  std::this_thread::sleep_for(kLifetime);
  return f.held.empty() ? 1 : 0;
}
