// /proc/net/sockstat{,6}: see sockstat.hpp.
#include "host/sockstat.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <string>

namespace sockscope::host_detail {

// The whole file (these are a few hundred bytes), or "" when unreadable.
std::string read_small(const char* path) {
  std::string out;
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[1024];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  if (n > 0) out.assign(buf, std::size_t(n));
  ::close(fd);
  return out;
}

std::optional<std::size_t> sockstat_field(std::string_view text, std::string_view line,
                                          std::string_view key) {
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view l = text.substr(at, end - at);
    at = end + 1;
    if (!l.starts_with(line)) continue;
    const std::size_t k = l.find(key);
    if (k == std::string_view::npos) return std::nullopt;
    std::size_t i = k + key.size();
    if (i >= l.size() || l[i] < '0' || l[i] > '9') return std::nullopt;
    std::size_t v = 0;
    for (; i < l.size() && l[i] >= '0' && l[i] <= '9'; ++i) v = v * 10 + std::size_t(l[i] - '0');
    return v;
  }
  return std::nullopt;
}

SocketCounts read_socket_counts() {
  SocketCounts c;
  const std::string v4 = read_small("/proc/net/sockstat");
  const std::string v6 = read_small("/proc/net/sockstat6");
  c.all = sockstat_field(v4, "sockets:", "used ");
  const auto tcp = sockstat_field(v4, "TCP:", " inuse "), tw = sockstat_field(v4, "TCP:", " tw ");
  const auto tcp6 = sockstat_field(v6, "TCP6:", " inuse ");
  const auto udp = sockstat_field(v4, "UDP:", " inuse ");
  const auto udp6 = sockstat_field(v6, "UDP6:", " inuse ");
  if (tcp && tw && tcp6) c.tcp = *tcp + *tw + *tcp6;
  if (udp && udp6) c.udp = *udp + *udp6;
  return c;
}

}  // namespace sockscope::host_detail
