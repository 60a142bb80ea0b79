// The fast socket source: NETLINK_SOCK_DIAG dumps through libmnl, one request
// per (protocol, family, half), parsed straight out of one reused receive
// buffer (no allocation per socket). A TCP or UDP dump that learns the
// autobound bit is two requests; with a second netlink socket they are the two
// balanced halves of diag_bytecode.hpp, run side by side on two threads that
// take turns handing their records to the sink (one receive buffer at a time),
// so the kernel's filling of messages, most of a dump's time, is shared by two
// CPUs and nothing is held back. A user's filter (SocketQuery::filter) goes
// ahead of each request's own program (host_detail::compose), so the kernel
// skips what it rejects; what the kernel cannot decide is checked here.
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "host/diag_bytecode.hpp"
#include "host/filtered_query.hpp"
#include "host/sockstat.hpp"
#include "sockscope/socket_filter.hpp"
#include "sockscope/socket_table.hpp"

namespace sockscope {
namespace {

using host_detail::DumpPart;

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

// The kernel's TCP_LISTEN and TCP_CLOSE (include/net/tcp_states.h): the states in
// which it reports INET_DIAG_SKV6ONLY.
constexpr std::uint8_t kTcpListen = 10, kTcpClose = 7;
// TIME_WAIT and the request minisockets (SYN_RECV, NEW_SYN_RECV) carry no extensions.
constexpr std::uint8_t kTcpTimeWait = 6, kTcpSynRecv = 3, kTcpNewSynRecv = 12;

SocketState state_of(std::uint8_t kernel_state) {
  if (kernel_state == 12) return SocketState::kSynRecv;  // TCP_NEW_SYN_RECV
  if (kernel_state >= 1 && kernel_state <= 11) return SocketState(kernel_state);
  return SocketState::kClose;  // TCP_BOUND_INACTIVE and anything newer: bound, idle
}

class NetlinkSource final : public SocketSource {
 public:
  // `side`: a second socket in the same namespace for the parallel half, or null.
  NetlinkSource(mnl_socket* nl, mnl_socket* side, std::uint64_t netns, bool own_namespace)
      : main_{nl, std::vector<char>(kReceiveBuffer)}, netns_(netns), own_namespace_(own_namespace) {
    if (side) side_ = std::make_unique<Channel>(Channel{side, std::vector<char>(kReceiveBuffer)});
  }
  ~NetlinkSource() override {
    mnl_socket_close(main_.nl);
    if (side_) mnl_socket_close(side_->nl);
  }

  std::string_view name() const override { return "netlink"; }
  std::uint64_t netns() const override { return netns_; }

  std::expected<DumpStats, Error> dump(const SocketQuery& asked, const SocketSink& sink) override {
    const SocketQuery query = host_detail::narrowed(asked);
    DumpStats stats;
    if (query.states == 0) return stats;
    filter_ = query.filter.get();
    user_program_.reset();
    if (filter_) user_program_ = filter_->bytecode();
    counts_.reset();  // read when a request could be split, once per dump()
    for (Transport t : query.transports) {
      if (!has_ports(t)) continue;
      // TCP over both families in one walk of the kernel's hash tables: the
      // older TCPDIAG_GETSOCK request dumps with AF_UNSPEC, where
      // SOCK_DIAG_BY_FAMILY needs one walk per family. Kernels without it
      // answer with an error before any record, and the per-family path runs.
      if (t == Transport::kTcp && query.ipv4 && query.ipv6 && compat_tcp_) {
        bool ok = true;
        const std::size_t before = stats.sockets;
        auto done = dump_parts(t, AF_UNSPEC, query, sink, stats);
        if (!done) {
          // Refused up front (nothing delivered): fall back; otherwise a real error.
          if (stats.sockets != before) return std::unexpected(done.error());
          compat_tcp_ = ok = false;
        }
        if (ok) continue;
      }
      for (int family : {AF_INET, AF_INET6}) {
        if ((family == AF_INET && !query.ipv4) || (family == AF_INET6 && !query.ipv6)) continue;
        auto done = dump_parts(t, family, query, sink, stats);
        if (done) continue;
        if (done.error().code != Error::Code::kUnsupported) return std::unexpected(done.error());
        stats.skipped.push_back(done.error());
      }
    }
    return stats;
  }

 private:
  // What a request's records still need after the kernel's filter.
  enum class Check : std::uint8_t {
    kNone,       // the kernel decided (no filter, or its bytecode says all)
    kUserSpace,  // ss's user-space side (autobound's range test, address bits)
    kFull,       // the kernel ran none of the filter (SCTP, or no room for it)
  };

  // The request's filter program: the user's ahead of the part's, and the check left.
  std::pair<std::vector<std::uint8_t>, Check> program_for(Transport t, DumpPart part) const {
    const std::vector<inet_diag_bc_op> own = host_detail::diag_program(part);
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(own.data());
    std::vector<std::uint8_t> plain(bytes, bytes + own.size() * sizeof(inet_diag_bc_op));
    if (!filter_) return {std::move(plain), Check::kNone};
    // sctp_diag runs no bytecode at all.
    if (t == Transport::kSctp || !user_program_) return {std::move(plain), Check::kFull};
    auto both = host_detail::compose(*user_program_, own);
    if (!both) return {std::move(plain), Check::kFull};
    return {std::move(*both), filter_->needs_user_space_check() ? Check::kUserSpace : Check::kNone};
  }

  bool passes(const SocketRecord& rec, Check check) const {
    switch (check) {
      case Check::kNone: return true;
      case Check::kUserSpace: return filter_->matches(rec, FilterSide::kUserSpace);
      case Check::kFull: return filter_->matches(rec);
    }
    return true;
  }

  // One netlink socket and its receive buffer: a dump in progress owns it.
  struct Channel {
    mnl_socket* nl;
    std::vector<char> buffer;
    unsigned sequence = 0;
    int refused = 0;  // the errno of a request refused before any record, else 0
  };

  // The requests of one (transport, family). Side by side, the balanced halves:
  // when a TCP request walks the established hash (any state but LISTEN) or for
  // UDP, whose one table every request walks. Otherwise one request, or the two
  // autobound halves one after the other. The first failure ends it.
  std::expected<void, Error> dump_parts(Transport t, int family, const SocketQuery& query,
                                        const SocketSink& sink, DumpStats& stats) {
    // sctp_diag runs no filter bytecode (net/sctp/diag.c filters by family only):
    // each filtered request would return every socket, so one request, no bit.
    const bool filters = t != Transport::kSctp;
    const bool walks_table =
        t != Transport::kTcp || (query.states & ~state_bit(SocketState::kListen)) != 0;
    if (side_ && filters && walks_table && split_ok_ && sockets_of(t) >= query.split_from_sockets) {
      const std::size_t before = stats.sockets;
      auto done = dump_split(t, family, query, sink, stats);
      if (done || stats.sockets != before || main_.refused != EINVAL) return done;
      // A kernel whose audit refuses the split programs: the plain halves from now on.
      split_ok_ = false;
    }
    const DumpPart halves[2] = {DumpPart::kAuto, DumpPart::kNotAuto};
    const DumpPart all[1] = {DumpPart::kAll};
    const bool learn_bit = query.autobound && filters;
    for (DumpPart part :
         learn_bit ? std::span<const DumpPart>(halves) : std::span<const DumpPart>(all)) {
      auto done = dump_one(main_, t, family, query, part, sink, stats, nullptr);
      if (!done) return done;
    }
    return {};
  }

  // This namespace's sockets of `t` by the kernel's counters; unknown counts as
  // large (splitting a large dump matters more than a small one's cost).
  std::size_t sockets_of(Transport t) {
    if (t != Transport::kTcp && t != Transport::kUdp) return 0;  // DCCP: few, if any
    if (!counts_) counts_ = host_detail::read_socket_counts();
    const auto& n = t == Transport::kTcp ? counts_->tcp : counts_->udp;
    return n.value_or(SIZE_MAX);
  }

  // Half "differ" on a thread and the side socket, half "same" here; each
  // delivers under `turn`, so the sink sees one caller at a time.
  std::expected<void, Error> dump_split(Transport t, int family, const SocketQuery& query,
                                        const SocketSink& sink, DumpStats& stats) {
    std::mutex turn;
    DumpStats side_stats;
    std::expected<void, Error> side_done;
    std::expected<void, Error> done;
    {
      std::jthread side([&] {
        side_done = dump_one(*side_, t, family, query, DumpPart::kDiffer, sink, side_stats, &turn);
      });
      done = dump_one(main_, t, family, query, DumpPart::kSame, sink, stats, &turn);
    }
    stats.sockets += side_stats.sockets;
    stats.messages += side_stats.messages;
    if (!done) return done;
    if (!side_done) {
      main_.refused = side_->refused;
      return side_done;
    }
    ++stats.split_requests;
    return {};
  }

  // The request's header: TCPDIAG_GETSOCK for TCP over both families (AF_UNSPEC),
  // else SOCK_DIAG_BY_FAMILY, with the states and the extensions asked for (only
  // then: each costs the kernel a copy per socket).
  static nlmsghdr* put_request(std::vector<char>& request, unsigned sequence, int family,
                               std::uint8_t protocol, const SocketQuery& query) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(request.data());
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = sequence;
    std::uint8_t ext = 0;
    if (query.tcp_info) ext |= 1 << (INET_DIAG_INFO - 1);
    if (query.memory) ext |= 1 << (INET_DIAG_SKMEMINFO - 1);
    if (family == AF_UNSPEC) {
      nlh->nlmsg_type = TCPDIAG_GETSOCK;
      auto* req =
          static_cast<inet_diag_req*>(mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_req)));
      req->idiag_states = query.states;
      req->idiag_ext = ext;
    } else {
      nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
      auto* req =
          static_cast<inet_diag_req_v2*>(mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_req_v2)));
      req->sdiag_family = std::uint8_t(family);
      req->sdiag_protocol = protocol;
      req->idiag_states = query.states;
      req->idiag_ext = ext;
    }
    return nlh;
  }

  std::expected<void, Error> dump_one(Channel& ch, Transport transport, int family,
                                      const SocketQuery& query, DumpPart part,
                                      const SocketSink& sink, DumpStats& stats, std::mutex* turn) {
    const auto protocol = ip_protocol(transport, Family::kV4);
    const std::string what = fmt_what(transport, family);
    ch.refused = 0;
    const auto [program, check] = program_for(transport, part);
    std::vector<char> request(MNL_SOCKET_BUFFER_SIZE + program.size());
    nlmsghdr* nlh = put_request(request, ++ch.sequence, family, protocol, query);
    const bool details = query.tcp_info || query.memory;
    const std::uint16_t answer_type = nlh->nlmsg_type;
    if (!program.empty()) {
      if (nlh->nlmsg_len + MNL_ATTR_HDRLEN + program.size() > request.size()) {
        return std::unexpected(Error::io("sock_diag request for " + what + ": filter too long"));
      }
      mnl_attr_put(nlh, INET_DIAG_REQ_BYTECODE, program.size(), program.data());
    }
    if (mnl_socket_sendto(ch.nl, nlh, nlh->nlmsg_len) < 0) {
      return std::unexpected(os_error("sock_diag request for " + what, errno));
    }
    const bool bit = query.autobound && part != DumpPart::kAll;
    SocketRecord rec;
    rec.transport = transport;
    rec.netns = netns_;
    const int fd = mnl_socket_get_fd(ch.nl);
    bool any = false;
    for (;;) {
      ssize_t n = ::recv(fd, ch.buffer.data(), ch.buffer.size(), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        return std::unexpected(os_error("sock_diag dump of " + what, errno));
      }
      if (n == 0)
        return std::unexpected(Error::io("sock_diag dump of " + what + ": socket closed"));
      std::unique_lock<std::mutex> my_turn;
      if (turn) my_turn = std::unique_lock<std::mutex>(*turn);
      int len = int(n);
      for (auto* msg = reinterpret_cast<const nlmsghdr*>(ch.buffer.data()); mnl_nlmsg_ok(msg, len);
           msg = mnl_nlmsg_next(msg, &len)) {
        if (msg->nlmsg_seq != ch.sequence) continue;  // a late answer to an older request
        if (msg->nlmsg_type == NLMSG_DONE) {
          if (msg->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
            int err = *static_cast<const int*>(mnl_nlmsg_get_payload(msg));
            if (err < 0) {
              if (!any) ch.refused = -err;
              return std::unexpected(answer_error(what, -err, protocol));
            }
          }
          return {};
        }
        if (msg->nlmsg_type == NLMSG_ERROR) {
          if (msg->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) {
            return std::unexpected(Error::io("sock_diag dump of " + what + ": truncated error"));
          }
          const auto* e = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(msg));
          if (e->error == 0) continue;
          if (!any) ch.refused = -e->error;
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
        if (m->idiag_family == AF_INET6 && rec.ifindex) add_zones(rec);
        // The attributes only when the record needs one: an IPv6 listener's v6only
        // bit, or the extensions asked for (the plain dump stays a plain loop).
        rec.v6only.reset();
        if (rec.details) rec.details.reset();
        if (has_attributes(*m, details)) read_attributes(rec, msg, details);
        rec.autobound.reset();
        // Minisockets (TIME_WAIT, SYN_RECV) report userlocks 0: the bit says nothing.
        if (bit && rec.state != SocketState::kTimeWait && rec.state != SocketState::kSynRecv) {
          rec.autobound = host_detail::autobound_in(part, rec.local.port, rec.remote.port);
        }
        any = true;
        if (!passes(rec, check)) continue;
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
    rec.timer = m.idiag_timer <= 4 ? SocketTimer(m.idiag_timer) : SocketTimer::kNone;
    rec.timer_retrans = m.idiag_retrans;
    rec.timer_expires_ms = m.idiag_expires;
  }

  // A link-local IPv6 address means nothing without its interface: the zone
  // comes from the socket's bound interface (the scope the kernel reports).
  void add_zones(SocketRecord& rec) {
    if (rec.ifindex == 0) return;
    for (Endpoint* ep : {&rec.local, &rec.remote}) {
      const auto b = ep->address.bytes();
      if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) {
        ep->address = IpAddress::v6_bytes(b.data(), zone_of(rec.ifindex));
      }
    }
  }

  // The interned zone of an interface: its name in this namespace, its number in
  // another one (names are per namespace and this process may not be in it).
  std::uint32_t zone_of(std::uint32_t ifindex) {
    for (const auto& [index, zone] : zones_) {
      if (index == ifindex) return zone;
    }
    char name[IF_NAMESIZE] = {};
    const bool named = own_namespace_ && ::if_indextoname(ifindex, name) != nullptr;
    static constexpr std::uint8_t kAny[16] = {};
    const std::uint32_t zone =
        IpAddress::v6_bytes(kAny)
            .with_zone(named ? std::string_view(name) : std::string_view(std::to_string(ifindex)))
            .zone_id();
    zones_.emplace_back(ifindex, zone);
    return zone;
  }

  // Whether a message carries an attribute the record wants: INET_DIAG_SKV6ONLY
  // (IPv6 listeners and unconnected sockets) or, when `details`, the extensions
  // (full sockets: not TIME_WAIT or request minisockets).
  static bool has_attributes(const inet_diag_msg& m, bool details) {
    const std::uint8_t st = m.idiag_state;
    if (m.idiag_family == AF_INET6 && (st == kTcpListen || st == kTcpClose)) return true;
    return details && st != kTcpTimeWait && st != kTcpSynRecv && st != kTcpNewSynRecv;
  }

  // The attributes after inet_diag_msg: INET_DIAG_SKV6ONLY (which the kernel adds
  // unasked to IPv6 sockets in LISTEN or CLOSE state) and, when `details`, the
  // extensions the query asked for.
  static void read_attributes(SocketRecord& rec, const nlmsghdr* msg, bool details) {
    std::shared_ptr<SocketDetails> d;
    if (details) d = std::make_shared<SocketDetails>();
    const char* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(msg));
    for (auto* attr =
             static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(msg, sizeof(inet_diag_msg)));
         mnl_attr_ok(attr, int(tail - reinterpret_cast<const char*>(attr)));
         attr = mnl_attr_next(attr)) {
      const std::size_t len = mnl_attr_get_payload_len(attr);
      const void* payload = mnl_attr_get_payload(attr);
      switch (mnl_attr_get_type(attr)) {
        case INET_DIAG_SKV6ONLY:
          if (len >= 1) rec.v6only = *static_cast<const std::uint8_t*>(payload) != 0;
          break;
        case INET_DIAG_INFO:
          if (d && rec.transport == Transport::kTcp) d->tcp = tcp_info_of(payload, len);
          break;
        case INET_DIAG_SKMEMINFO:
          if (d) d->memory = memory_of(payload, len);
          break;
        default: break;
      }
    }
    if (d && (d->tcp || d->memory)) rec.details = std::move(d);
  }

  // struct tcp_info grew over the years: fields past what the kernel sent are unknown.
  static TcpInfo tcp_info_of(const void* payload, std::size_t len) {
    tcp_info t{};
    std::memcpy(&t, payload, std::min(len, sizeof t));
    auto has = [len](std::size_t offset, std::size_t size) { return offset + size <= len; };
    TcpInfo out;
    out.rtt_us = t.tcpi_rtt;
    out.rttvar_us = t.tcpi_rttvar;
    out.cwnd = t.tcpi_snd_cwnd;
    out.retransmits = t.tcpi_total_retrans;
    if (has(offsetof(tcp_info, tcpi_bytes_acked), 8)) out.bytes_acked = t.tcpi_bytes_acked;
    if (has(offsetof(tcp_info, tcpi_bytes_received), 8)) out.bytes_received = t.tcpi_bytes_received;
    if (has(offsetof(tcp_info, tcpi_delivery_rate), 8)) out.delivery_rate = t.tcpi_delivery_rate;
    return out;
  }

  static SocketMemory memory_of(const void* payload, std::size_t len) {
    std::uint32_t v[SK_MEMINFO_VARS] = {};
    std::memcpy(v, payload, std::min(len, sizeof v));
    return {v[SK_MEMINFO_RMEM_ALLOC], v[SK_MEMINFO_RCVBUF],    v[SK_MEMINFO_WMEM_ALLOC],
            v[SK_MEMINFO_SNDBUF],     v[SK_MEMINFO_FWD_ALLOC], v[SK_MEMINFO_WMEM_QUEUED],
            v[SK_MEMINFO_OPTMEM],     v[SK_MEMINFO_BACKLOG],   v[SK_MEMINFO_DROPS]};
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
  bool own_namespace_;                                          // interface names resolve here
  std::vector<std::pair<std::uint32_t, std::uint32_t>> zones_;  // ifindex -> interned zone
  bool compat_tcp_ = true;                                      // TCPDIAG_GETSOCK still answered
  bool split_ok_ = true;  // the kernel accepted the balanced halves' programs
  std::optional<host_detail::SocketCounts> counts_;  // this dump()'s, once read
  // This dump()'s filter and its bytecode (nullopt: too long for the kernel).
  const SocketFilter* filter_ = nullptr;
  std::optional<std::vector<std::uint8_t>> user_program_;
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
  return std::unique_ptr<SocketSource>(new NetlinkSource(nl, side, netns, netlink_fd < 0));
}

}  // namespace sockscope
