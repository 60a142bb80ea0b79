// The base of the IPFIX transports (file, UDP, TCP): the encoder, the counters
// and the first error. Internal.
#pragma once

#include <span>
#include <string>

#include "sockscope/ipfix.hpp"

namespace sockscope::ipfix {

using Bytes = std::span<const std::uint8_t>;

// Bytes of messages held between the encoder and a network transport's sender
// thread: the producer waits beyond it.
inline constexpr std::size_t kSendQueueBytes = 8u << 20;

// What every transport shares: the encoder, the counters, the first error. The
// network transports deliver on their sender thread: stats_ is that thread's until
// it is closed.
class Transport : public IpfixExporter {
 public:
  Transport(IpfixOptions options, std::string name)
      : IpfixExporter(options),
        name_(std::move(name)),
        encoder_(options, [this](Bytes m, std::size_t n) { deliver(m, n); }) {}
  void add(const FlowRecord& r) override { encoder_.add(r); }
  void flush() override { encoder_.flush(); }
  const IpfixStats& stats() const override { return stats_; }

 protected:
  virtual void deliver(Bytes message, std::size_t records) = 0;
  void delivered(std::size_t records) {
    ++stats_.messages;
    stats_.records += records;
  }
  void failed(std::size_t records, std::string what, int err) {
    stats_.dropped += records;
    if (!stats_.error) stats_.error = Error::os(name_ + ": " + what, err);
  }
  std::string name_;
  IpfixEncoder encoder_;
  IpfixStats stats_;
};

// A connected socket to `to`, or -1 with errno set; waits at most `timeout`.
int connect_to(const Endpoint& to, int type, std::chrono::milliseconds timeout);

std::unique_ptr<IpfixExporter> make_tcp_exporter(IpfixOptions options, std::string name,
                                                 const Endpoint& collector);

}  // namespace sockscope::ipfix
