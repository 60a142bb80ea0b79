// IPFIX over TCP: templates once per connection; while the collector is away,
// messages wait in a bounded queue (the oldest records are dropped and counted
// beyond it) and the connection is tried again every reconnect_interval. The
// connection is the sender thread's (ipfix/send_thread.hpp): blocking writes and
// reconnection overlap the caller's encoding.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <optional>
#include <thread>
#include <vector>

#include "ipfix/send_thread.hpp"
#include "ipfix/transport.hpp"

namespace sockscope::ipfix {
namespace {

struct Queued {
  std::vector<std::uint8_t> bytes;
  std::size_t records;
  std::uint32_t sequence() const {
    return std::uint32_t(bytes[8]) << 24 | bytes[9] << 16 | bytes[10] << 8 | bytes[11];
  }
};

// Whether the peer has closed, half-closed or reset the connection (a collector
// never sends): checked before each message, so that one written after the
// collector's FIN is kept for the next connection instead of vanishing.
bool peer_gone(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) != 1) return false;
  if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return true;
  char c;
  return ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0;
}

class TcpExporter final : public Transport {
 public:
  TcpExporter(IpfixOptions o, std::string name, Endpoint collector)
      : Transport(o, std::move(name)), collector_(collector) {
    pump();  // the first connection before the first record
    sender_.emplace(
        kSendQueueBytes, [this](const SendThread::Message& m) { hold(m); },
        options_.reconnect_interval,
        [this] {
          if (!queue_.empty()) pump();
        });
  }
  ~TcpExporter() override {
    sender_.reset();
    disconnect();
  }
  IpfixStats finish() override;

 private:
  void deliver(Bytes m, std::size_t records) override { sender_->push(m, records); }
  // On the sender thread: into the reconnection queue, then out if connected.
  void hold(const SendThread::Message& m) {
    queue_.push_back({m.bytes, m.records});
    queued_ += m.records;
    while (queued_ > options_.queue_records && !queue_.empty()) {
      failed(queue_.front().records, "queue full while the collector is away", ENOBUFS);
      next_sequence_ = queue_.front().sequence() + std::uint32_t(queue_.front().records);
      queued_ -= queue_.front().records;
      queue_.pop_front();
    }
    pump();
  }
  void disconnect() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool send_all(Bytes m) {
    std::size_t done = 0;
    while (done < m.size()) {
      const ssize_t n = ::send(fd_, m.data() + done, m.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += std::size_t(n);
    }
    return true;
  }
  bool connect_now();
  void pump();

  Endpoint collector_;
  int fd_ = -1;
  bool ever_connected_ = false;
  std::uint64_t next_attempt_ns_ = 0;
  std::deque<Queued> queue_;
  std::size_t queued_ = 0;
  std::uint32_t next_sequence_ = 0;   // of the first record not yet sent or dropped
  std::optional<SendThread> sender_;  // started last, stopped first
};

// A new connection starts with the templates, numbered as the first message to come.
bool TcpExporter::connect_now() {
  const std::uint64_t now = encoder_.now_ns();
  if (now < next_attempt_ns_) return false;
  next_attempt_ns_ = now + std::uint64_t(options_.reconnect_interval.count()) * 1000000;
  fd_ = connect_to(collector_, SOCK_STREAM, options_.reconnect_interval);
  if (fd_ < 0) {
    if (!stats_.error) stats_.error = Error::os("IPFIX collector " + name_, errno);
    return false;
  }
  if (ever_connected_) ++stats_.reconnects;
  ever_connected_ = true;
  const auto templates =
      encoder_.templates_message(queue_.empty() ? next_sequence_ : queue_.front().sequence());
  if (!send_all(templates)) {
    disconnect();
    return false;
  }
  ++stats_.messages;
  return true;
}

void TcpExporter::pump() {
  while (!queue_.empty() || fd_ < 0) {
    if (fd_ < 0 && !connect_now()) return;
    if (queue_.empty()) return;
    if (peer_gone(fd_) || !send_all(queue_.front().bytes)) {
      disconnect();  // sent again whole on the next connection
      continue;
    }
    delivered(queue_.front().records);
    next_sequence_ = queue_.front().sequence() + std::uint32_t(queue_.front().records);
    queued_ -= queue_.front().records;
    queue_.pop_front();
  }
}

IpfixStats TcpExporter::finish() {
  encoder_.flush();
  sender_->close();  // from here on this thread's alone
  const auto deadline = std::chrono::steady_clock::now() + options_.finish_timeout;
  pump();
  while (!queue_.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(
        options_.reconnect_interval, deadline - std::chrono::steady_clock::now()));
    pump();
  }
  for (const Queued& q : queue_) failed(q.records, "collector unreachable at the end", ENOTCONN);
  queue_.clear();
  queued_ = 0;
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
  disconnect();
  return stats_;
}

}  // namespace

std::unique_ptr<IpfixExporter> make_tcp_exporter(IpfixOptions options, std::string name,
                                                 const Endpoint& collector) {
  return std::make_unique<TcpExporter>(std::move(options), std::move(name), collector);
}

}  // namespace sockscope::ipfix
