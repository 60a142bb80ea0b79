// Decoding of sock_diag inet messages; see diag_message.hpp.
#include "host/diag_message.hpp"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>

#include <cstring>
#include <string>

namespace sockscope::host_detail {
namespace {

constexpr std::size_t kAlign = 4;  // NLMSG_ALIGNTO and NLA_ALIGNTO
constexpr std::size_t align(std::size_t n) { return (n + kAlign - 1) & ~(kAlign - 1); }

template <class T>
T read_at(std::span<const std::uint8_t> data, std::size_t off) {
  T v;
  std::memcpy(&v, data.data() + off, sizeof v);
  return v;
}

Error malformed(std::string what, std::size_t offset) {
  return Error{Error::Code::kTruncated,
               "sock_diag message at byte " + std::to_string(offset) + ": " + std::move(what),
               0,
               {}};
}

// A field of tcp_info when the kernel's copy is long enough to hold it.
template <class T>
void counter(std::span<const std::uint8_t> info, std::size_t off, T& out) {
  if (off + sizeof(T) <= info.size()) out = read_at<T>(info, off);
}

TcpCounters tcp_counters(std::span<const std::uint8_t> info) {
  TcpCounters c;
  counter(info, offsetof(tcp_info, tcpi_state), c.state);
  counter(info, offsetof(tcp_info, tcpi_total_retrans), c.total_retrans);
  counter(info, offsetof(tcp_info, tcpi_bytes_acked), c.bytes_acked);
  counter(info, offsetof(tcp_info, tcpi_bytes_received), c.bytes_received);
  counter(info, offsetof(tcp_info, tcpi_segs_out), c.segs_out);
  counter(info, offsetof(tcp_info, tcpi_segs_in), c.segs_in);
  counter(info, offsetof(tcp_info, tcpi_bytes_sent), c.bytes_sent);
  counter(info, offsetof(tcp_info, tcpi_bytes_retrans), c.bytes_retrans);
  c.has_bytes_sent = offsetof(tcp_info, tcpi_bytes_retrans) + 8 <= info.size();
  return c;
}

// The attributes after the inet_diag_msg: [start, end) of `data`.
std::expected<void, Error> parse_attributes(std::span<const std::uint8_t> data, std::size_t start,
                                            std::size_t end, DiagMessage& m) {
  std::span<const std::uint8_t> info;
  bool has_info = false;
  for (std::size_t off = start; off + sizeof(nlattr) <= end;) {
    const auto attr = read_at<nlattr>(data, off);
    if (attr.nla_len < sizeof(nlattr) || off + attr.nla_len > end) {
      return std::unexpected(malformed(
          "attribute length " + std::to_string(attr.nla_len) + " does not fit the message", off));
    }
    const std::size_t payload = off + sizeof(nlattr);
    const std::size_t len = attr.nla_len - sizeof(nlattr);
    switch (attr.nla_type & NLA_TYPE_MASK) {
      case INET_DIAG_PROTOCOL:
        if (len >= 1) m.protocol = data[payload];
        break;
      case INET_DIAG_INFO:
        info = data.subspan(payload, len);
        has_info = true;
        break;
      default: break;
    }
    off += align(attr.nla_len);
  }
  // tcp_info only for TCP: UDP's handler sends no INET_DIAG_INFO, and a dump
  // without INET_DIAG_PROTOCOL was asked for one protocol.
  if (has_info && (m.protocol == 6 || m.protocol == 0)) m.tcp = tcp_counters(info);
  return {};
}

void fill_message(std::span<const std::uint8_t> data, std::size_t at, DiagMessage& m) {
  const auto msg = read_at<inet_diag_msg>(data, at);
  m.family = msg.idiag_family;
  m.state = msg.idiag_state;
  m.sport = std::uint16_t((msg.id.idiag_sport & 0xff) << 8 | msg.id.idiag_sport >> 8);
  m.dport = std::uint16_t((msg.id.idiag_dport & 0xff) << 8 | msg.id.idiag_dport >> 8);
  std::memcpy(m.src, msg.id.idiag_src, 16);
  std::memcpy(m.dst, msg.id.idiag_dst, 16);
  m.ifindex = msg.id.idiag_if;
  m.cookie = std::uint64_t{msg.id.idiag_cookie[0]} | std::uint64_t{msg.id.idiag_cookie[1]} << 32;
  m.uid = msg.idiag_uid;
  m.inode = msg.idiag_inode;
}

}  // namespace

std::expected<std::size_t, Error> parse_diag_messages(
    std::span<const std::uint8_t> data, const std::function<void(const DiagMessage&)>& fn) {
  std::size_t decoded = 0;
  for (std::size_t off = 0; off + sizeof(nlmsghdr) <= data.size();) {
    const auto header = read_at<nlmsghdr>(data, off);
    if (header.nlmsg_len < sizeof(nlmsghdr) || header.nlmsg_len > data.size() - off) {
      return std::unexpected(malformed("length " + std::to_string(header.nlmsg_len) +
                                           " does not fit the datagram of " +
                                           std::to_string(data.size()) + " bytes",
                                       off));
    }
    const std::size_t end = off + header.nlmsg_len;
    if (header.nlmsg_type == SOCK_DIAG_BY_FAMILY || header.nlmsg_type == TCPDIAG_GETSOCK) {
      const std::size_t body = off + align(sizeof(nlmsghdr));
      if (body + sizeof(inet_diag_msg) > end) {
        return std::unexpected(malformed("shorter than an inet_diag_msg", off));
      }
      DiagMessage m;
      m.type = header.nlmsg_type;
      fill_message(data, body, m);
      auto attrs = parse_attributes(data, body + align(sizeof(inet_diag_msg)), end, m);
      if (!attrs) return std::unexpected(attrs.error());
      fn(m);
      ++decoded;
    }
    off += align(header.nlmsg_len);
  }
  return decoded;
}

}  // namespace sockscope::host_detail
