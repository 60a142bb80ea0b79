// A burst of real TCP connections on loopback for the connection log's tests:
// a server thread accepts, reads until the client's FIN, answers and closes; the
// client sends, half-closes, reads the answer and closes. Every socket's cookie
// (SO_COOKIE) and the bytes each side's read() and write() moved are recorded:
// the independent truth the log's events are checked against.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sockscope/endpoint.hpp"

namespace sockscope::testing {

struct BurstConnection {
  std::uint64_t client_cookie = 0, server_cookie = 0;
  std::uint64_t client_sent = 0, client_received = 0;  // what the client's calls moved
  std::uint64_t server_sent = 0, server_received = 0;
  Endpoint client, server;  // the client's local endpoint, the server's
};

// `n` connections to the listener `listener_fd` (at `server`), one after the
// other; the client sends 1 + (i * 7919) % 3000 bytes, the server answers twice
// what it received plus one. Bounded: gives up (short result) after 60 s.
std::vector<BurstConnection> run_burst(int listener_fd, const Endpoint& server, std::size_t n);

// The socket's cookie (SO_COOKIE), 0 when the kernel has none.
std::uint64_t cookie_of(int fd);

}  // namespace sockscope::testing
