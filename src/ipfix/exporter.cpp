// The IPFIX transports: an IPFIX file, UDP (templates refreshed, messages sized
// to the path MTU) and TCP (templates once per connection, a bounded queue while
// the collector is away, reconnection).
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <optional>
#include <span>

#include "ipfix/layout.hpp"
#include "ipfix/pacer.hpp"
#include "ipfix/send_thread.hpp"
#include "ipfix/transport.hpp"
#include "sockscope/connection_log.hpp"
#include "sockscope/ipfix.hpp"

namespace sockscope {
namespace {

using ipfix::Bytes;
using ipfix::Transport;

class FileExporter final : public Transport {
 public:
  FileExporter(IpfixOptions o, std::string name, std::FILE* f) : Transport(o, name), file_(f) {
    encoder_.send_templates();
  }
  ~FileExporter() override {
    if (file_) std::fclose(file_);
  }
  void flush() override {  // records held so far reach the file (a reader may follow it)
    encoder_.flush();
    if (file_) std::fflush(file_);
  }
  IpfixStats finish() override {
    encoder_.flush();
    if (file_ && std::fclose(file_) != 0) failed(0, "closing", errno);
    file_ = nullptr;
    return stats_;
  }

 private:
  void deliver(Bytes m, std::size_t records) override {
    if (file_ && std::fwrite(m.data(), 1, m.size(), file_) == m.size()) return delivered(records);
    failed(records, "writing", errno);
  }
  std::FILE* file_;
};

std::uint64_t ms_to_ns(std::chrono::milliseconds ms) { return std::uint64_t(ms.count()) * 1000000; }

// Messages go out from a thread of their own (ipfix/send_thread.hpp), paced there
// and sent several to a sendmmsg(2), each datagram one message; the templates are
// queued ahead of the message that is due for them.
class UdpExporter final : public Transport {
 public:
  UdpExporter(IpfixOptions o, std::string name, int fd)
      : Transport(o, name), fd_(fd), pacer_(o.udp_bytes_per_second) {
    sender_.emplace(
        ipfix::kSendQueueBytes, kMaxBatch,
        [this](std::span<const ipfix::SendThread::Message> ms, bool waited) {
          if (waited) pacer_.rest();
          send(ms);
        },
        kWakeAt);
  }
  ~UdpExporter() override {
    sender_.reset();
    ::close(fd_);
  }
  void flush() override {  // what is held goes out now, not at the sender's wake mark
    encoder_.flush();
    sender_->kick();
  }
  IpfixStats finish() override {
    encoder_.flush();
    sender_->close();
    return stats_;
  }

 private:
  using Message = ipfix::SendThread::Message;
  // On the sender thread: what the pace allows at once goes in one system call.
  void send(std::span<const Message> ms) {
    for (std::size_t i = 0, n = 0; i < ms.size(); i += n) {
      pacer_.wait(ms[i].bytes.size());
      for (n = 1; i + n < ms.size() && pacer_.try_take(ms[i + n].bytes.size());) ++n;
      send_datagrams(ms.subspan(i, n));
    }
  }
  // Each message is delivered or fails with its errno, as a send(2) of each would.
  // sendmmsg(2) returns how many went before an error and drops the error: the
  // message it stopped at goes alone through send(2), which reports a lasting error
  // (the socket's pending one, an ICMP port unreachable's ECONNREFUSED, was taken
  // by the stopped call: that message goes out).
  void send_datagrams(std::span<const Message> ms) {
    mmsghdr headers[kMaxBatch];
    iovec parts[kMaxBatch];
    for (std::size_t i = 0; i < ms.size(); ++i) {
      parts[i] = {const_cast<std::uint8_t*>(ms[i].bytes.data()), ms[i].bytes.size()};
      headers[i] = {};
      headers[i].msg_hdr.msg_iov = &parts[i];
      headers[i].msg_hdr.msg_iovlen = 1;
    }
    for (std::size_t i = 0; i < ms.size();) {
      const int sent = ::sendmmsg(fd_, headers + i, unsigned(ms.size() - i), 0);
      if (sent < 0) {
        failed(ms[i].records, "sending", errno);
        ++i;
        continue;
      }
      for (const std::size_t end = i + std::size_t(sent); i < end; ++i) {
        if (headers[i].msg_len == ms[i].bytes.size()) {
          delivered(ms[i].records);
        } else {
          failed(ms[i].records, "sending", EMSGSIZE);
        }
      }
      if (i < ms.size()) send_one(ms[i++]);
    }
  }
  void send_one(const Message& m) {
    if (::send(fd_, m.bytes.data(), m.bytes.size(), 0) == ssize_t(m.bytes.size())) {
      return delivered(m.records);
    }
    failed(m.records, "sending", errno);
  }
  void deliver(Bytes m, std::size_t records) override {
    const std::uint64_t now = encoder_.now_ns();
    if (!templates_sent_ || now - last_templates_ >= ms_to_ns(options_.template_refresh)) {
      templates_sent_ = true;
      last_templates_ = now;
      sender_->push(encoder_.templates_message(encoder_.sequence() - std::uint32_t(records)), 0);
    }
    sender_->push(m, records);
  }
  static constexpr std::size_t kMaxBatch = 64;  // messages a system call
  // Messages that wake an idle sender (a flush wakes it for fewer): a sender
  // faster than the capture slept and woke once a message.
  static constexpr std::size_t kWakeAt = 16;
  int fd_;
  ipfix::Pacer pacer_;           // the sender thread's
  bool templates_sent_ = false;  // the producer's
  std::uint64_t last_templates_ = 0;
  std::optional<ipfix::SendThread> sender_;  // started last, stopped first
};

}  // namespace

int ipfix::connect_to(const Endpoint& to, int type, std::chrono::milliseconds timeout) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (to.address.is_v4()) {
    auto* sa = reinterpret_cast<sockaddr_in*>(&ss);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(to.port);
    std::memcpy(&sa->sin_addr, to.address.bytes().data(), 4);
    len = sizeof(sockaddr_in);
  } else {
    auto* sa = reinterpret_cast<sockaddr_in6*>(&ss);
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(to.port);
    std::memcpy(&sa->sin6_addr, to.address.bytes().data(), 16);
    sa->sin6_scope_id = to.address.zone_id();
    len = sizeof(sockaddr_in6);
  }
  const int fd = ::socket(ss.ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) {
    const int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  pollfd p{fd, POLLOUT, 0};
  int err = 0;
  socklen_t err_len = sizeof(err);
  if (::poll(&p, 1, int(timeout.count())) != 1) {
    err = ETIMEDOUT;
  } else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0) {
    err = errno;
  }
  if (err) {
    ::close(fd);
    errno = err;
    return -1;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

namespace {

// Largest IPFIX message that fits the path MTU of the connected UDP socket.
std::size_t udp_message_size(int fd, bool v6) {
  int mtu = 0;
  socklen_t len = sizeof(mtu);
  const int got = v6 ? ::getsockopt(fd, IPPROTO_IPV6, IPV6_MTU, &mtu, &len)
                     : ::getsockopt(fd, IPPROTO_IP, IP_MTU, &mtu, &len);
  if (got != 0 || mtu <= 0) mtu = 1500;
  const std::size_t size = std::size_t(mtu) - (v6 ? 48 : 28);
  return std::min(size, ipfix::kMaxUdpMessage);
}

}  // namespace

void IpfixExporter::add(const Conversation& c) {
  FlowRecord records[2];
  const std::size_t n = flow_records(c, options_.biflow, records);
  for (std::size_t i = 0; i < n; ++i) add(records[i]);
}

void IpfixExporter::add(const ConnectionEvent& e) {
  FlowRecord records[2];
  const std::size_t n = flow_records(e, options_.biflow, records);
  for (std::size_t i = 0; i < n; ++i) add(records[i]);
}

std::expected<std::unique_ptr<IpfixExporter>, Error> IpfixExporter::open(
    std::string_view destination, IpfixOptions options) {
  auto d = parse_ipfix_destination(destination);
  if (!d) return std::unexpected(d.error());
  const std::string name = d->to_string();
  switch (d->kind) {
    case IpfixDestination::Kind::kFile: {
      std::FILE* f = std::fopen(d->path.c_str(), "wb");
      if (!f) return std::unexpected(Error::os("IPFIX file " + d->path, errno));
      return std::make_unique<FileExporter>(options, name, f);
    }
    case IpfixDestination::Kind::kUdp: {
      const int fd = ipfix::connect_to(d->collector, SOCK_DGRAM, std::chrono::milliseconds(1000));
      if (fd < 0) return std::unexpected(Error::os("IPFIX collector " + name, errno));
      if (!options.max_message) {
        options.max_message = udp_message_size(fd, d->collector.address.is_v6());
      }
      return std::make_unique<UdpExporter>(options, name, fd);
    }
    default: return ipfix::make_tcp_exporter(options, name, d->collector);
  }
}

}  // namespace sockscope
