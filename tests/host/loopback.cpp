#include "host/loopback.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sockscope::testing {
namespace {

int family_of(const Endpoint& ep) { return ep.address.is_v4() ? AF_INET : AF_INET6; }

void check(bool ok, const char* what) {
  if (!ok) ADD_FAILURE() << what << ": " << std::strerror(errno);
}

}  // namespace

socklen_t to_sockaddr(const Endpoint& ep, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  if (ep.address.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(ep.port);
    std::memcpy(&sin->sin_addr, ep.address.bytes().data(), 4);
    return sizeof *sin;
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(ep.port);
  std::memcpy(&sin6->sin6_addr, ep.address.bytes().data(), 16);
  return sizeof *sin6;
}

namespace {

void set_v6only(int fd, std::optional<bool> v6only) {
  if (!v6only) return;
  const int on = *v6only ? 1 : 0;
  check(::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) == 0, "IPV6_V6ONLY");
}

}  // namespace

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    reset();
    fd_ = o.release();
  }
  return *this;
}
Fd::~Fd() { reset(); }
void Fd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

IpAddress own_v4(int n) {
  const unsigned pid = unsigned(::getpid());
  return IpAddress::v4((127u << 24) | ((100 + pid % 150) << 16) | ((pid / 150) % 250 + 1) << 8 |
                       unsigned(n));
}

IpAddress v6_loopback() { return *IpAddress::parse("::1"); }

Endpoint local_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  check(::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0, "getsockname");
  Endpoint ep;
  if (ss.ss_family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    ep.address = IpAddress::v4_bytes(reinterpret_cast<const std::uint8_t*>(&sin->sin_addr));
    ep.port = ntohs(sin->sin_port);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    ep.address = IpAddress::v6_bytes(sin6->sin6_addr.s6_addr);
    ep.port = ntohs(sin6->sin6_port);
  }
  return ep;
}

Fd tcp_listen(const Endpoint& at, int backlog, std::optional<bool> v6only) {
  Fd fd(::socket(family_of(at), SOCK_STREAM | SOCK_CLOEXEC, 0));
  check(fd.get() >= 0, "socket");
  set_v6only(fd.get(), v6only);
  sockaddr_storage ss;
  socklen_t len = to_sockaddr(at, ss);
  check(::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) == 0, "bind");
  check(::listen(fd.get(), backlog) == 0, "listen");
  return fd;
}

Fd tcp_connect_started(const Endpoint& to) {
  Fd fd(::socket(family_of(to), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  check(fd.get() >= 0, "socket");
  sockaddr_storage ss;
  socklen_t len = to_sockaddr(to, ss);
  const int r = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len);
  check(r == 0 || errno == EINPROGRESS, "connect");
  return fd;
}

Fd tcp_connect(const Endpoint& to, const Endpoint* from) {
  Fd fd(::socket(family_of(to), SOCK_STREAM | SOCK_CLOEXEC, 0));
  check(fd.get() >= 0, "socket");
  sockaddr_storage ss;
  if (from) {
    socklen_t len = to_sockaddr(*from, ss);
    check(::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) == 0, "bind");
  }
  socklen_t len = to_sockaddr(to, ss);
  check(::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) == 0, "connect");
  return fd;
}

Fd tcp_accept(int listener) {
  Fd fd(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  check(fd.get() >= 0, "accept");
  return fd;
}

Fd udp_bind(const Endpoint& at, std::optional<bool> v6only) {
  Fd fd(::socket(family_of(at), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  check(fd.get() >= 0, "socket");
  set_v6only(fd.get(), v6only);
  sockaddr_storage ss;
  socklen_t len = to_sockaddr(at, ss);
  check(::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) == 0, "bind");
  return fd;
}

Fd udp_connect(const Endpoint& to) {
  Fd fd(::socket(family_of(to), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  check(fd.get() >= 0, "socket");
  sockaddr_storage ss;
  socklen_t len = to_sockaddr(to, ss);
  check(::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) == 0, "connect");
  return fd;
}

std::vector<SocketRecord> involving(const std::vector<SocketRecord>& table,
                                    const IpAddress& address) {
  std::vector<SocketRecord> out;
  for (const auto& r : table) {
    if (r.local.address == address || r.remote.address == address) out.push_back(r);
  }
  return out;
}

std::vector<SocketRecord> raw_diag_dump(int family, int protocol,
                                        std::span<const std::uint8_t> program) {
  std::vector<SocketRecord> out;
  Fd nl(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  check(nl.get() >= 0, "NETLINK_SOCK_DIAG socket");
  const std::size_t head = NLMSG_SPACE(sizeof(inet_diag_req_v2));
  std::vector<char> request(head + (program.empty() ? 0 : NLA_HDRLEN + NLA_ALIGN(program.size())));
  auto* nlh = reinterpret_cast<nlmsghdr*>(request.data());
  nlh->nlmsg_len = std::uint32_t(request.size());
  nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = 1;
  auto* req = reinterpret_cast<inet_diag_req_v2*>(NLMSG_DATA(nlh));
  req->sdiag_family = std::uint8_t(family);
  req->sdiag_protocol = std::uint8_t(protocol);
  req->idiag_states = kAllStates;
  if (!program.empty()) {
    auto* attr = reinterpret_cast<nlattr*>(request.data() + head);
    attr->nla_type = INET_DIAG_REQ_BYTECODE;
    attr->nla_len = std::uint16_t(NLA_HDRLEN + program.size());
    std::memcpy(reinterpret_cast<char*>(attr) + NLA_HDRLEN, program.data(), program.size());
  }
  EXPECT_EQ(::send(nl.get(), request.data(), request.size(), 0), ssize_t(request.size()));
  std::vector<char> buf(64 * 1024);
  for (int rounds = 0; rounds < 100000; ++rounds) {
    const ssize_t n = ::recv(nl.get(), buf.data(), buf.size(), 0);
    if (n <= 0) {
      ADD_FAILURE() << "recv: " << std::strerror(errno);
      return out;
    }
    int len = int(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, len);
         h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type == NLMSG_DONE) return out;
      if (h->nlmsg_type == NLMSG_ERROR) {
        ADD_FAILURE() << "the kernel refused the program: "
                      << std::strerror(-static_cast<nlmsgerr*>(NLMSG_DATA(h))->error);
        return out;
      }
      const auto* m = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
      const auto* src = reinterpret_cast<const std::uint8_t*>(m->id.idiag_src);
      const auto* dst = reinterpret_cast<const std::uint8_t*>(m->id.idiag_dst);
      const bool v4 = family == AF_INET;
      SocketRecord r;
      r.transport = protocol == IPPROTO_TCP ? Transport::kTcp : Transport::kUdp;
      r.state = m->idiag_state == 12 ? SocketState::kSynRecv : SocketState(m->idiag_state);
      r.local = {v4 ? IpAddress::v4_bytes(src) : IpAddress::v6_bytes(src),
                 ntohs(m->id.idiag_sport)};
      r.remote = {v4 ? IpAddress::v4_bytes(dst) : IpAddress::v6_bytes(dst),
                  ntohs(m->id.idiag_dport)};
      out.push_back(r);
    }
  }
  ADD_FAILURE() << "dump did not end";
  return out;
}

std::string key_of(const SocketRecord& r) {
  return std::string(to_string(r.transport)) + " " + std::string(to_string(r.state)) + " " +
         r.local.to_string() + " " + r.remote.to_string();
}

}  // namespace sockscope::testing
