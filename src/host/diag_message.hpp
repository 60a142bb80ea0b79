// The kernel's sock_diag answers for inet sockets, decoded from raw netlink
// bytes: an inet_diag_msg and the attributes the connection log reads
// (INET_DIAG_INFO's tcp_info counters, INET_DIAG_PROTOCOL). Internal to the host
// layer; standard library and <linux/*.h> only, so the fuzz preset builds it.
//
//   parse_diag_messages(bytes, [](const DiagMessage& m) { m.cookie; m.tcp->bytes_acked; });
//
// Why not libmnl here, as the dump does: destroy notifications arrive one
// multicast datagram at a time at up to 100,000 a second, and the parser is
// fuzzed (the fuzz preset has no libmnl). Every length is checked against the
// buffer; a message that does not fit is an Error naming its offset, never a
// read past the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <span>

#include "sockscope/error.hpp"

namespace sockscope::host_detail {

// The counters of struct tcp_info the connection log reports (fields the
// kernel has filled since Linux 4.19; absent when the attribute is shorter).
struct TcpCounters {
  std::uint64_t bytes_acked = 0;     // sent and acknowledged, SYN and FIN included
  std::uint64_t bytes_received = 0;  // received in order, the peer's FIN included
  std::uint64_t bytes_sent = 0;      // payload transmitted, retransmissions included
  std::uint64_t bytes_retrans = 0;   // payload retransmitted
  std::uint32_t segs_out = 0;
  std::uint32_t segs_in = 0;
  std::uint32_t total_retrans = 0;  // segments retransmitted
  std::uint8_t state = 0;           // tcpi_state
  bool has_bytes_sent = false;      // the kernel's tcp_info reaches bytes_sent (4.19+)
};

// One inet_diag_msg: addresses as 16 bytes (IPv4 in the first 4), ports host order.
struct DiagMessage {
  std::uint16_t type = 0;     // nlmsg_type (SOCK_DIAG_BY_FAMILY for broadcasts)
  std::uint8_t family = 0;    // AF_INET or AF_INET6
  std::uint8_t state = 0;     // the kernel's state number
  std::uint8_t protocol = 0;  // INET_DIAG_PROTOCOL, 0 when absent
  std::uint16_t sport = 0, dport = 0;
  std::uint8_t src[16] = {}, dst[16] = {};
  std::uint32_t ifindex = 0;
  std::uint64_t cookie = 0;
  std::uint32_t uid = 0;           // 0 in destroy notifications (not filled)
  std::uint32_t inode = 0;         // 0 in destroy notifications
  std::optional<TcpCounters> tcp;  // INET_DIAG_INFO of a TCP socket
};

// Calls `fn` for each message of type SOCK_DIAG_BY_FAMILY or TCPDIAG_GETSOCK in
// `data` (one datagram); other types are skipped. Returns the number decoded,
// or what is malformed (the messages before it were delivered).
std::expected<std::size_t, Error> parse_diag_messages(
    std::span<const std::uint8_t> data, const std::function<void(const DiagMessage&)>& fn);

}  // namespace sockscope::host_detail
