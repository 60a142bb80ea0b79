// sock_diag destroy notifications: subscription and batched reading
// (recvmmsg, 64 datagrams a call: at 100,000 closes a second one recv() per
// message cost a fifth of a core). See destroy_listener.hpp.
#include "host/destroy_listener.hpp"

#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sockscope::host_detail {
namespace {

constexpr std::size_t kBatch = 64;
// A destroy message is about 400 bytes (header, inet_diag_msg, protocol and a
// tcp_info of ~280 bytes); newer kernels grow tcp_info, so room to spare.
constexpr std::size_t kDatagram = 2048;

std::uint32_t group_bit(int group) { return 1u << (group - 1); }

}  // namespace

std::expected<DestroyListener, Error> DestroyListener::open(const DestroyOptions& options,
                                                            int netlink_fd) {
  int fd = netlink_fd;
  if (fd < 0) fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return std::unexpected(Error::os("NETLINK_SOCK_DIAG socket", errno));
  DestroyListener out(fd);
  // The queue first: messages may arrive as soon as the groups are joined.
  int asked = options.receive_buffer;
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &asked, sizeof asked) == 0) {
    out.forced_ = true;
  } else {
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &asked, sizeof asked);
  }
  socklen_t len = sizeof out.granted_;
  (void)::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &out.granted_, &len);
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  if (options.tcp && options.ipv4) addr.nl_groups |= group_bit(SKNLGRP_INET_TCP_DESTROY);
  if (options.udp && options.ipv4) addr.nl_groups |= group_bit(SKNLGRP_INET_UDP_DESTROY);
  if (options.tcp && options.ipv6) addr.nl_groups |= group_bit(SKNLGRP_INET6_TCP_DESTROY);
  if (options.udp && options.ipv6) addr.nl_groups |= group_bit(SKNLGRP_INET6_UDP_DESTROY);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    return std::unexpected(Error::os("joining sock_diag's destroy groups", errno));
  }
  out.buffers_.resize(kBatch * kDatagram);
  return out;
}

DestroyListener::DestroyListener(DestroyListener&& o) noexcept
    : fd_(o.fd_), granted_(o.granted_), forced_(o.forced_), buffers_(std::move(o.buffers_)) {
  o.fd_ = -1;
}

DestroyListener::~DestroyListener() {
  if (fd_ >= 0) ::close(fd_);
}

std::expected<DestroyListener::Drained, Error> DestroyListener::drain(
    const std::function<void(const DiagMessage&)>& fn, std::size_t max_datagrams) {
  Drained out;
  mmsghdr headers[kBatch];
  iovec vectors[kBatch];
  for (std::size_t read = 0; read < max_datagrams;) {
    for (std::size_t i = 0; i < kBatch; ++i) {
      vectors[i] = {buffers_.data() + i * kDatagram, kDatagram};
      headers[i] = {};
      headers[i].msg_hdr.msg_iov = &vectors[i];
      headers[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = ::recvmmsg(fd_, headers, kBatch, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == ENOBUFS) {
        out.overflowed = true;  // reported once; the queue still holds messages
        continue;
      }
      return std::unexpected(Error::os("reading sock_diag destroy notifications", errno));
    }
    for (int i = 0; i < n; ++i) {
      // A datagram cut by a too small buffer (MSG_TRUNC) is decoded as far as it
      // goes: the parser stops at the message that does not fit.
      std::span<const std::uint8_t> bytes(buffers_.data() + std::size_t(i) * kDatagram,
                                          std::min<std::size_t>(headers[i].msg_len, kDatagram));
      auto parsed = parse_diag_messages(bytes, fn);
      if (parsed) {
        out.messages += *parsed;
      } else {
        ++out.malformed;
      }
    }
    read += std::size_t(n);
    if (std::size_t(n) < kBatch) break;
  }
  return out;
}

std::uint64_t DestroyListener::drops() const {
  std::uint32_t info[SK_MEMINFO_VARS] = {};
  socklen_t len = sizeof info;
  if (::getsockopt(fd_, SOL_SOCKET, SO_MEMINFO, info, &len) != 0) return 0;
  if (len < sizeof(std::uint32_t) * (SK_MEMINFO_DROPS + 1)) return 0;
  return info[SK_MEMINFO_DROPS];
}

}  // namespace sockscope::host_detail
