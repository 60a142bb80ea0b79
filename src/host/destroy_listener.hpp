// Destroy notifications of sock_diag: the kernel multicasts one message when an
// inet socket is freed (SKNLGRP_INET{,6}_{TCP,UDP}_DESTROY, what `ss -E` reads),
// with its cookie, endpoints and, for TCP, its final tcp_info. Internal to the
// host layer; the connection log (connection_log.hpp) is its user.
//
//   auto destroys = DestroyListener::open({.tcp = true, .udp = true});
//   poll(destroys->fd(), ...);
//   destroys->drain([](const DiagMessage& m) { ... m.cookie, m.tcp->bytes_acked ... });
//   destroys->drops();              // messages the kernel dropped (queue full)
//
// Unprivileged processes may join these groups (the kernel marks sock_diag
// NL_CFG_F_NONROOT_RECV). Each namespace multicasts its own sockets only: a
// socket opened inside another namespace (netns.hpp) listens there.
// Loss: when the receive queue is full the kernel drops messages, counts them
// (sk_drops, read with SO_MEMINFO) and reports ENOBUFS once; drain() returns
// that as `overflowed`. A large queue (SO_RCVBUFFORCE with CAP_NET_ADMIN, else
// up to net.core.rmem_max) makes it rare.
// Thread safety: one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <vector>

#include "host/diag_message.hpp"
#include "sockscope/error.hpp"

namespace sockscope::host_detail {

struct DestroyOptions {
  bool tcp = true, udp = true, ipv4 = true, ipv6 = true;
  // Bytes of receive queue asked for; SO_RCVBUFFORCE first, then SO_RCVBUF.
  int receive_buffer = 64 << 20;
};

class DestroyListener {
 public:
  // Subscribes in the caller's namespace, or on `netlink_fd` (an unbound
  // NETLINK_SOCK_DIAG socket, adopted and closed by the listener).
  static std::expected<DestroyListener, Error> open(const DestroyOptions& options,
                                                    int netlink_fd = -1);
  DestroyListener(DestroyListener&& o) noexcept;
  DestroyListener& operator=(DestroyListener&&) = delete;
  ~DestroyListener();

  int fd() const { return fd_; }
  // The receive queue the kernel granted (it doubles the value asked for).
  int receive_buffer() const { return granted_; }
  bool forced() const { return forced_; }  // SO_RCVBUFFORCE was allowed

  struct Drained {
    std::size_t messages = 0;
    bool overflowed = false;    // ENOBUFS: messages were dropped since the last drain
    std::size_t malformed = 0;  // datagrams the decoder refused (the rest of each is lost)
  };
  // Reads what is queued, without blocking, at most `max_datagrams` datagrams.
  std::expected<Drained, Error> drain(const std::function<void(const DiagMessage&)>& fn,
                                      std::size_t max_datagrams = 4096);
  // Messages the kernel dropped on this socket so far (SK_MEMINFO_DROPS).
  std::uint64_t drops() const;

 private:
  explicit DestroyListener(int fd) : fd_(fd) {}
  int fd_ = -1;
  int granted_ = 0;
  bool forced_ = false;
  std::vector<std::uint8_t> buffers_;  // kBatch datagrams of kDatagram bytes
};

}  // namespace sockscope::host_detail
