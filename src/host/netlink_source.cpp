// The fast socket source: NETLINK_SOCK_DIAG dumps through libmnl, one request
// per (protocol, family, autobound half), parsed straight out of one reused
// receive buffer (no allocation per socket). The two halves of a TCP walk of the
// established hash run side by side on two sockets: the kernel's walks are most of
// the time of a dump, and the second half (explicitly bound sockets) is usually small
// enough to hold until the first has been delivered.
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "sockscope/socket_table.hpp"

namespace sockscope {
namespace {

// Which half of the autobound split a request asks for.
enum class AutoFilter { kNone, kAuto, kNotAuto };

// A 32 KiB receive is what the kernel fills per dump round at most
// (netlink_recvmsg caps max_recvmsg_len); twice that leaves room.
constexpr std::size_t kReceiveBuffer = 64 * 1024;

std::string_view family_name(int family) { return family == AF_INET ? "IPv4" : "IPv6"; }

Error os_error(std::string what, int err) {
  Error e = Error::os(std::move(what), err);
  if (err == ENOENT || err == EOPNOTSUPP || err == EPROTONOSUPPORT) {
    e.code = Error::Code::kUnsupported;
  }
  return e;
}

SocketState state_of(std::uint8_t kernel_state) {
  if (kernel_state == 12) return SocketState::kSynRecv;  // TCP_NEW_SYN_RECV
  if (kernel_state >= 1 && kernel_state <= 11) return SocketState(kernel_state);
  return SocketState::kClose;  // TCP_BOUND_INACTIVE and anything newer: bound, idle
}

class NetlinkSource final : public SocketSource {
 public:
  // `side`: a second socket in the same namespace for the parallel half, or null.
  NetlinkSource(mnl_socket* nl, mnl_socket* side, std::uint64_t netns)
      : main_{nl, std::vector<char>(kReceiveBuffer)}, netns_(netns) {
    if (side) side_ = std::make_unique<Channel>(Channel{side, std::vector<char>(kReceiveBuffer)});
  }
  ~NetlinkSource() override {
    mnl_socket_close(main_.nl);
    if (side_) mnl_socket_close(side_->nl);
  }

  std::string_view name() const override { return "netlink"; }
  std::uint64_t netns() const override { return netns_; }

  std::expected<DumpStats, Error> dump(const SocketQuery& query,
                                       const SocketSink& sink) override {
    DumpStats stats;
    const AutoFilter halves[2] = {AutoFilter::kAuto, AutoFilter::kNotAuto};
    const AutoFilter none[1] = {AutoFilter::kNone};
    const std::span<const AutoFilter> parts =
        query.autobound ? std::span<const AutoFilter>(halves) : std::span<const AutoFilter>(none);
    for (Transport t : query.transports) {
      if (!has_ports(t)) continue;
      // TCP over both families in one walk of the kernel's hash tables: the
      // older TCPDIAG_GETSOCK request dumps with AF_UNSPEC, where
      // SOCK_DIAG_BY_FAMILY needs one walk per family. Kernels without it
      // answer with an error before any record, and the per-family path runs.
      if (t == Transport::kTcp && query.ipv4 && query.ipv6 && compat_tcp_) {
        bool ok = true;
        const std::size_t before = stats.sockets;
        auto done = dump_parts(t, AF_UNSPEC, query.states, parts, sink, stats);
        if (!done) {
          // Refused up front (nothing delivered): fall back; otherwise a real error.
          if (stats.sockets != before) return std::unexpected(done.error());
          compat_tcp_ = ok = false;
        }
        if (ok) continue;
      }
      for (int family : {AF_INET, AF_INET6}) {
        if ((family == AF_INET && !query.ipv4) || (family == AF_INET6 && !query.ipv6)) continue;
        auto done = dump_parts(t, family, query.states, parts, sink, stats);
        if (done) continue;
        if (done.error().code != Error::Code::kUnsupported) return std::unexpected(done.error());
        stats.skipped.push_back(done.error());
      }
    }
    return stats;
  }

 private:
  // One netlink socket and its receive buffer: a dump in progress owns it.
  struct Channel {
    mnl_socket* nl;
    std::vector<char> buffer;
    unsigned sequence = 0;
  };

  // The parts of one (transport, family) request in order: the first failure ends it.
  // Two halves of a TCP request that walks the established hash go side by side:
  // the second half on a thread and its own socket, held, then delivered after the
  // first, so the order is the one-socket order.
  std::expected<void, Error> dump_parts(Transport t, int family, StateMask states,
                                        std::span<const AutoFilter> parts,
                                        const SocketSink& sink, DumpStats& stats) {
    const bool walks_established = (states & ~state_bit(SocketState::kListen)) != 0;
    if (parts.size() == 2 && side_ && t == Transport::kTcp && walks_established) {
      std::vector<SocketRecord> held;
      DumpStats side_stats;
      std::expected<void, Error> side_done;
      {
        std::jthread side([&] {
          side_done = dump_one(*side_, t, family, states, parts[1],
                               [&](const SocketRecord& r) { held.push_back(r); }, side_stats);
        });
        auto first = dump_one(main_, t, family, states, parts[0], sink, stats);
        if (!first) return first;  // (the thread is joined on the way out)
      }
      if (!side_done) return side_done;
      for (const SocketRecord& r : held) sink(r);
      stats.sockets += side_stats.sockets;
      stats.messages += side_stats.messages;
      return {};
    }
    for (AutoFilter part : parts) {
      auto done = dump_one(main_, t, family, states, part, sink, stats);
      if (!done) return done;
    }
    return {};
  }

  std::expected<void, Error> dump_one(Channel& ch, Transport transport, int family,
                                      StateMask states, AutoFilter part, const SocketSink& sink,
                                      DumpStats& stats) {
    const auto protocol = ip_protocol(transport, Family::kV4);
    const std::string what = fmt_what(transport, family);
    char request[MNL_SOCKET_BUFFER_SIZE];
    nlmsghdr* nlh = mnl_nlmsg_put_header(request);
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = ++ch.sequence;
    if (family == AF_UNSPEC) {
      nlh->nlmsg_type = TCPDIAG_GETSOCK;
      auto* req = static_cast<inet_diag_req*>(mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_req)));
      req->idiag_states = states;
    } else {
      nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
      auto* req =
          static_cast<inet_diag_req_v2*>(mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_req_v2)));
      req->sdiag_family = std::uint8_t(family);
      req->sdiag_protocol = protocol;
      req->idiag_states = states;
    }
    const std::uint16_t answer_type = nlh->nlmsg_type;
    // Bytecode jumps forward; landing exactly on the end accepts, past it rejects.
    // The kernel's audit requires the "yes" chain to land on the end, so NOT AUTO
    // needs a second op (an unconditional JMP past the end) for its "yes" path.
    if (part == AutoFilter::kAuto) {
      const inet_diag_bc_op op[1] = {{INET_DIAG_BC_AUTO, 4, 8}};
      mnl_attr_put(nlh, INET_DIAG_REQ_BYTECODE, sizeof op, op);
    } else if (part == AutoFilter::kNotAuto) {
      const inet_diag_bc_op op[2] = {{INET_DIAG_BC_AUTO, 4, 8}, {INET_DIAG_BC_JMP, 4, 8}};
      mnl_attr_put(nlh, INET_DIAG_REQ_BYTECODE, sizeof op, op);
    }
    if (mnl_socket_sendto(ch.nl, nlh, nlh->nlmsg_len) < 0) {
      return std::unexpected(os_error("sock_diag request for " + what, errno));
    }
    const std::optional<bool> bit =
        part == AutoFilter::kNone ? std::nullopt : std::optional<bool>(part == AutoFilter::kAuto);
    SocketRecord rec;
    rec.transport = transport;
    rec.netns = netns_;
    const int fd = mnl_socket_get_fd(ch.nl);
    for (;;) {
      ssize_t n = ::recv(fd, ch.buffer.data(), ch.buffer.size(), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        return std::unexpected(os_error("sock_diag dump of " + what, errno));
      }
      if (n == 0) return std::unexpected(Error::io("sock_diag dump of " + what + ": socket closed"));
      int len = int(n);
      for (auto* msg = reinterpret_cast<const nlmsghdr*>(ch.buffer.data()); mnl_nlmsg_ok(msg, len);
           msg = mnl_nlmsg_next(msg, &len)) {
        if (msg->nlmsg_seq != ch.sequence) continue;  // a late answer to an older request
        if (msg->nlmsg_type == NLMSG_DONE) {
          if (msg->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
            int err = *static_cast<const int*>(mnl_nlmsg_get_payload(msg));
            if (err < 0) return std::unexpected(answer_error(what, -err, protocol));
          }
          return {};
        }
        if (msg->nlmsg_type == NLMSG_ERROR) {
          if (msg->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) {
            return std::unexpected(Error::io("sock_diag dump of " + what + ": truncated error"));
          }
          const auto* e = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(msg));
          if (e->error == 0) continue;
          return std::unexpected(answer_error(what, -e->error, protocol));
        }
        if (msg->nlmsg_type != answer_type) continue;
        ++stats.messages;
        if (msg->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) {
          Error e = Error::io("sock_diag dump of " + what + ": message shorter than inet_diag_msg");
          e.code = Error::Code::kTruncated;
          return std::unexpected(e);
        }
        const auto* m = static_cast<const inet_diag_msg*>(mnl_nlmsg_get_payload(msg));
        fill(rec, *m);
        rec.autobound = bit;
        if (rec.state == SocketState::kTimeWait || rec.state == SocketState::kSynRecv) {
          rec.autobound.reset();  // minisockets report userlocks 0: the bit says nothing
        }
        ++stats.sockets;
        sink(rec);
      }
    }
  }

  static void fill(SocketRecord& rec, const inet_diag_msg& m) {
    rec.state = state_of(m.idiag_state);
    const auto* src = reinterpret_cast<const std::uint8_t*>(m.id.idiag_src);
    const auto* dst = reinterpret_cast<const std::uint8_t*>(m.id.idiag_dst);
    if (m.idiag_family == AF_INET) {
      rec.local.address = IpAddress::v4_bytes(src);
      rec.remote.address = IpAddress::v4_bytes(dst);
    } else {
      rec.local.address = IpAddress::v6_bytes(src);
      rec.remote.address = IpAddress::v6_bytes(dst);
    }
    rec.local.port = ntohs(m.id.idiag_sport);
    rec.remote.port = ntohs(m.id.idiag_dport);
    rec.rqueue = m.idiag_rqueue;
    rec.wqueue = m.idiag_wqueue;
    rec.uid = m.idiag_uid;
    rec.inode = m.idiag_inode;
    rec.ifindex = m.id.idiag_if;
    rec.cookie = std::uint64_t{m.id.idiag_cookie[0]} | std::uint64_t{m.id.idiag_cookie[1]} << 32;
  }

  static std::string fmt_what(Transport t, int family) {
    if (family == AF_UNSPEC) return std::string(to_string(t)) + " over IPv4 and IPv6";
    return std::string(to_string(t)) + " over " + std::string(family_name(family));
  }

  static Error answer_error(const std::string& what, int err, int protocol) {
    if (err == ENOENT || err == EOPNOTSUPP) {
      Error e = Error::io(what + ": the kernel has no sock_diag handler for IP protocol " +
                          std::to_string(protocol) + " (diag module not loaded or not built)");
      e.code = Error::Code::kUnsupported;
      return e;
    }
    return os_error("sock_diag dump of " + what, err);
  }

  Channel main_;
  std::unique_ptr<Channel> side_;  // null: the halves go one after the other
  std::uint64_t netns_;
  bool compat_tcp_ = true;  // TCPDIAG_GETSOCK still answered
};

}  // namespace

std::expected<std::unique_ptr<SocketSource>, Error> open_netlink_source(int netlink_fd,
                                                                        std::uint64_t netns) {
  mnl_socket* nl = nullptr;
  if (netlink_fd >= 0) {
    nl = mnl_socket_fdopen(netlink_fd);
    if (!nl) {
      int err = errno;
      ::close(netlink_fd);
      return std::unexpected(os_error("NETLINK_SOCK_DIAG socket", err));
    }
  } else {
    nl = mnl_socket_open(NETLINK_SOCK_DIAG);
    if (!nl) return std::unexpected(os_error("NETLINK_SOCK_DIAG socket", errno));
    netns = current_netns();
  }
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    int err = errno;
    mnl_socket_close(nl);
    return std::unexpected(os_error("bind NETLINK_SOCK_DIAG socket", err));
  }
  int rcvbuf = 1 << 20;  // room for the kernel to run ahead of us
  setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  // The parallel half's socket, in this namespace (a socket handed in from another
  // namespace has no sibling there: its halves go one after the other). Optional.
  mnl_socket* side = nullptr;
  if (netlink_fd < 0 && (side = mnl_socket_open(NETLINK_SOCK_DIAG)) != nullptr) {
    if (mnl_socket_bind(side, 0, MNL_SOCKET_AUTOPID) < 0) {
      mnl_socket_close(side);
      side = nullptr;
    } else {
      setsockopt(mnl_socket_get_fd(side), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    }
  }
  return std::unique_ptr<SocketSource>(new NetlinkSource(nl, side, netns));
}

}  // namespace sockscope
