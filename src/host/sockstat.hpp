// The kernel's socket counters of the caller's network namespace
// (/proc/net/sockstat and sockstat6): cheap sizes for the host layer's choices
// (arrays sized once, whether a dump is worth two threads). Internal.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sockscope::host_detail {

// In sockstat text, the number after `key` on the line that starts with `line`
// ("TCP:", " tw " -> 0 in "TCP: inuse 20003 orphan 0 tw 0 alloc ..."), or nullopt.
std::optional<std::size_t> sockstat_field(std::string_view text, std::string_view line,
                                          std::string_view key);

// A small procfs file whole, "" when unreadable.
std::string read_small(const char* path);

struct SocketCounts {
  std::optional<std::size_t> all;  // "sockets: used": every family, unix sockets too
  std::optional<std::size_t> tcp;  // TCP over IPv4 and IPv6, TIME_WAIT included
  std::optional<std::size_t> udp;  // UDP over IPv4 and IPv6
};
// Unreadable or unexpected text leaves a count unknown.
SocketCounts read_socket_counts();

}  // namespace sockscope::host_detail
