// The fallback socket source: /proc/net/{tcp,tcp6,udp,udp6} text, the same
// records as netlink minus what the text lacks (cookie, autobound bit; a
// listener's send queue is 0 here where netlink gives its maximum backlog).
// Read in fixed 256 KiB blocks and parsed in place.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "host/filtered_query.hpp"
#include "sockscope/socket_filter.hpp"
#include "sockscope/socket_table.hpp"

namespace sockscope {
namespace {

constexpr std::size_t kBlock = 256 * 1024;

// A cursor over one line.
struct Fields {
  const char* p;
  const char* end;

  void skip_space() {
    while (p < end && (*p == ' ' || *p == '\t')) ++p;
  }
  // Hex digits up to a non-hex character; false when there are none.
  bool hex(std::uint64_t& out, int max_digits = 16) {
    out = 0;
    int n = 0;
    while (p < end && n < max_digits) {
      char c = *p;
      unsigned d;
      if (c >= '0' && c <= '9')
        d = unsigned(c - '0');
      else if (c >= 'A' && c <= 'F')
        d = unsigned(c - 'A' + 10);
      else if (c >= 'a' && c <= 'f')
        d = unsigned(c - 'a' + 10);
      else
        break;
      out = out << 4 | d;
      ++p;
      ++n;
    }
    return n > 0;
  }
  bool dec(std::uint64_t& out) {
    skip_space();
    out = 0;
    const char* start = p;
    while (p < end && *p >= '0' && *p <= '9') out = out * 10 + std::uint64_t(*p++ - '0');
    return p > start;
  }
  bool expect(char c) {
    if (p < end && *p == c) {
      ++p;
      return true;
    }
    return false;
  }
  void skip_field() {
    skip_space();
    while (p < end && *p != ' ') ++p;
  }
};

// "0100007F:0035" or 32 hex digits + ":0035": the kernel prints each 32-bit
// word of the network-order address as a host-order number.
bool parse_endpoint(Fields& f, bool v6, Endpoint& out) {
  f.skip_space();
  std::uint8_t bytes[16];
  const int words = v6 ? 4 : 1;
  for (int i = 0; i < words; ++i) {
    std::uint64_t w;
    const char* start = f.p;
    if (!f.hex(w, 8) || f.p - start != 8) return false;
    std::uint32_t word = std::uint32_t(w);
    std::memcpy(bytes + 4 * i, &word, 4);
  }
  std::uint64_t port;
  if (!f.expect(':') || !f.hex(port, 4)) return false;
  out.address = v6 ? IpAddress::v6_bytes(bytes) : IpAddress::v4_bytes(bytes);
  out.port = Port(port);
  return true;
}

bool parse_line(const char* begin, const char* end, bool v6, SocketRecord& rec) {
  Fields f{begin, end};
  f.skip_field();  // "sl:"
  if (!parse_endpoint(f, v6, rec.local) || !parse_endpoint(f, v6, rec.remote)) return false;
  std::uint64_t state, tx, rx, uid, timeout, inode;
  f.skip_space();
  if (!f.hex(state, 2) || state < 1 || state > 12) return false;
  rec.state = state == 12 ? SocketState::kSynRecv : SocketState(state);
  f.skip_space();
  if (!f.hex(tx, 8) || !f.expect(':') || !f.hex(rx, 8)) return false;
  f.skip_field();  // tr:tm->when
  f.skip_field();  // retrnsmt
  if (!f.dec(uid) || !f.dec(timeout) || !f.dec(inode)) return false;
  rec.wqueue = std::uint32_t(tx);
  rec.rqueue = std::uint32_t(rx);
  rec.uid = std::uint32_t(uid);
  rec.inode = inode;
  return true;
}

class ProcSource final : public SocketSource {
 public:
  ProcSource(std::string dir, std::uint64_t netns) : dir_(std::move(dir)), netns_(netns) {}
  std::string_view name() const override { return "/proc/net"; }
  std::uint64_t netns() const override { return netns_; }

  // The filter, if any, runs here in full: the text has no bytecode to run.
  std::expected<DumpStats, Error> dump(const SocketQuery& asked, const SocketSink& sink) override {
    const SocketQuery query = host_detail::narrowed(asked);
    DumpStats stats;
    for (Transport t : query.transports) {
      if (t != Transport::kTcp && t != Transport::kUdp) {
        Error e = Error::io(std::string(to_string(t)) + ": not available from " + dir_ +
                            " (only tcp and udp are read from text)");
        e.code = Error::Code::kUnsupported;
        stats.skipped.push_back(std::move(e));
        continue;
      }
      for (bool v6 : {false, true}) {
        if ((v6 && !query.ipv6) || (!v6 && !query.ipv4)) continue;
        std::string path = dir_ + "/" + std::string(to_string(t)) + (v6 ? "6" : "");
        auto done = read_file(path, t, v6, query, sink, stats);
        if (!done) {
          // No IPv6 in this kernel: the file is missing; say so and go on.
          if (v6 && done.error().code == Error::Code::kUnsupported) {
            stats.skipped.push_back(done.error());
            continue;
          }
          return std::unexpected(done.error());
        }
      }
    }
    return stats;
  }

 private:
  std::expected<void, Error> read_file(const std::string& path, Transport t, bool v6,
                                       const SocketQuery& query, const SocketSink& sink,
                                       DumpStats& stats) {
    const StateMask states = query.states;
    const SocketFilter* filter = query.filter.get();
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      Error e = Error::os(path, err);
      if (err == ENOENT) e.code = Error::Code::kUnsupported;
      return std::unexpected(e);
    }
    if (buffer_.size() < kBlock) buffer_.resize(kBlock);
    SocketRecord rec;
    rec.transport = t;
    rec.netns = netns_;
    std::size_t have = 0;  // bytes of an incomplete line kept at the front
    bool header = true;
    std::size_t line_no = 0;
    for (;;) {
      ssize_t n = ::read(fd, buffer_.data() + have, buffer_.size() - have);
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        ::close(fd);
        return std::unexpected(Error::io(path + ": " + std::strerror(err)));
      }
      const char* p = buffer_.data();
      const char* end = p + have + std::size_t(n);
      if (n == 0 && have == 0) break;
      for (;;) {
        const char* nl = static_cast<const char*>(std::memchr(p, '\n', std::size_t(end - p)));
        if (!nl) {
          if (n == 0)
            nl = end;  // last line without a newline
          else
            break;
        }
        ++line_no;
        if (header) {
          header = false;
        } else if (nl > p) {
          if (!parse_line(p, nl, v6, rec)) {
            ::close(fd);
            return std::unexpected(
                Error::at(Error::Code::kBadSyntax,
                          path + ": line " + std::to_string(line_no) + " is not a socket line", 0,
                          std::string_view(p, std::size_t(nl - p))));
          }
          ++stats.messages;
          if ((states & state_bit(rec.state)) && (!filter || filter->matches(rec))) {
            ++stats.sockets;
            sink(rec);
          }
        }
        p = nl < end ? nl + 1 : end;
        if (p >= end) break;
      }
      if (n == 0) break;
      have = std::size_t(end - p);
      if (have == buffer_.size()) {
        ::close(fd);
        return std::unexpected(Error::io(path + ": line longer than " + std::to_string(kBlock)));
      }
      std::memmove(buffer_.data(), p, have);
    }
    ::close(fd);
    return {};
  }

  std::string dir_;
  std::uint64_t netns_;
  std::vector<char> buffer_;
};

}  // namespace

std::unique_ptr<SocketSource> open_proc_source(std::string proc_net, std::uint64_t netns) {
  if (netns == 0 && proc_net == "/proc/thread-self/net") netns = current_netns();
  return std::make_unique<ProcSource>(std::move(proc_net), netns);
}

}  // namespace sockscope
