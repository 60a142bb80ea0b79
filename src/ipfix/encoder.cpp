// The IPFIX encoder: conversations into flow records, records into messages of
// templates and data sets. Standard library only (the fuzz preset builds it).
#include <algorithm>
#include <chrono>
#include <cstring>

#include "ipfix/layout.hpp"
#include "sockscope/community_id.hpp"
#include "sockscope/ipfix.hpp"

namespace sockscope {
namespace {

using ipfix::put16;
using ipfix::put32;
using ipfix::put64;

// The flags a direction's history letters prove (upper case: the client's).
std::uint16_t tcp_flags_of(std::string_view history, bool client) {
  std::uint16_t flags = 0;
  for (char letter : history) {
    const bool upper = letter >= 'A' && letter <= 'Z';
    if (upper != client) continue;
    switch (letter | 0x20) {
      case 's': flags |= ipfix::kSyn; break;
      case 'h': flags |= ipfix::kSyn | ipfix::kAck; break;
      case 'a': flags |= ipfix::kAck; break;
      case 'f': flags |= ipfix::kFin; break;
      case 'r': flags |= ipfix::kRst; break;
      default: break;
    }
  }
  return flags;
}

IpfixEndReason end_reason_of(const Conversation& c) {
  if (c.evicted_early) return IpfixEndReason::kLackOfResources;
  if (c.open) return IpfixEndReason::kActiveTimeout;
  if (c.pair.transport == Transport::kTcp && c.history.find_first_of("FfRr") != std::string::npos) {
    return IpfixEndReason::kEndOfFlow;
  }
  return IpfixEndReason::kIdleTimeout;
}

// ICMP records carry type * 256 + code as the destination port (NetFlow's custom).
void icmp_ports(const Conversation& c, FlowRecord& forward, FlowRecord& reverse) {
  const std::uint8_t protocol = ip_protocol(c.pair.transport, c.pair.first.address.family());
  const std::uint16_t type = c.pair.first.port;
  std::uint16_t other = 0;
  const bool paired = icmp_counterpart(protocol, type, &other);
  forward.pair.first.port = reverse.pair.first.port = 0;
  forward.pair.second.port = std::uint16_t(type << 8 | (paired ? 0 : c.pair.second.port & 0xff));
  reverse.pair.second.port = std::uint16_t(c.pair.second.port << 8);
}

}  // namespace

std::size_t flow_records(const Conversation& c, bool biflow, FlowRecord out[2]) {
  FlowRecord forward;
  forward.pair = c.pair;
  forward.start_ms = c.first_ns / 1'000'000;
  forward.end_ms = c.last_ns / 1'000'000;
  forward.end_reason = end_reason_of(c);
  forward.vlan = std::uint16_t(c.vlan > 0xfff ? (c.vlan >> 12) & 0xfff : c.vlan);
  FlowRecord reverse = forward;
  reverse.pair = c.pair.reversed();
  forward.octets = c.client.ip_bytes;
  forward.packets = c.client.packets;
  reverse.octets = c.server.ip_bytes;
  reverse.packets = c.server.packets;
  if (c.pair.transport == Transport::kTcp) {
    forward.tcp_flags = tcp_flags_of(c.history, true);
    reverse.tcp_flags = tcp_flags_of(c.history, false);
  }
  if (c.pair.transport == Transport::kIcmp) icmp_ports(c, forward, reverse);
  return ipfix::client_first(forward, reverse, biflow, out);
}

IpfixEncoder::IpfixEncoder(IpfixOptions options, Send send)
    : options_(std::move(options)), send_(std::move(send)) {
  if (options_.max_message == 0 || options_.max_message > ipfix::kMaxMessage) {
    options_.max_message = ipfix::kMaxMessage;
  }
  options_.max_message = std::max<std::size_t>(options_.max_message, 256);
}

std::uint64_t IpfixEncoder::now_ns() const {
  if (options_.clock) return options_.clock();
  return std::uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count());
}

void IpfixEncoder::begin_message() {
  message_.clear();
  message_.resize(ipfix::kMessageHeader);
  set_id_ = 0;
  records_ = 0;
}

void IpfixEncoder::finish_message() {
  if (set_id_) put16(message_.data() + set_start_ + 2, std::uint16_t(message_.size() - set_start_));
  ipfix::put_header(message_.data(), std::uint16_t(message_.size()), std::uint32_t(now_ns() / 1e9),
                    sequence_, options_.domain);
  const std::size_t records = records_;
  sequence_ += std::uint32_t(records);
  send_(message_, records);
  message_.clear();
  set_id_ = 0;
  records_ = 0;
}

void IpfixEncoder::add(const FlowRecord& r) {
  const ipfix::TemplateKey key = ipfix::template_of(r, options_.biflow);
  const std::size_t size = ipfix::record_size(key);
  if (message_.empty()) begin_message();
  const bool new_set = set_id_ != key.id();
  if (message_.size() + (new_set ? ipfix::kSetHeader : 0) + size > options_.max_message) {
    finish_message();
    begin_message();
  }
  if (set_id_ != key.id()) {
    if (set_id_) {
      put16(message_.data() + set_start_ + 2, std::uint16_t(message_.size() - set_start_));
    }
    set_start_ = message_.size();
    set_id_ = key.id();
    message_.resize(message_.size() + ipfix::kSetHeader);
    put16(message_.data() + set_start_, set_id_);
  }
  const std::size_t at = message_.size();
  message_.resize(at + size);
  ipfix::put_record(message_.data() + at, key, r);
  ++records_;
}

void IpfixEncoder::flush() {
  if (records_) finish_message();
}

std::vector<std::uint8_t> IpfixEncoder::templates_message(std::uint32_t sequence) const {
  std::vector<std::uint8_t> m(ipfix::kMessageHeader + ipfix::kSetHeader);
  for (const ipfix::TemplateKey key : ipfix::templates(options_.biflow)) {
    ipfix::append_template(m, key);
  }
  put16(m.data() + ipfix::kMessageHeader, ipfix::kTemplateSetId);
  put16(m.data() + ipfix::kMessageHeader + 2, std::uint16_t(m.size() - ipfix::kMessageHeader));
  ipfix::put_header(m.data(), std::uint16_t(m.size()), std::uint32_t(now_ns() / 1e9), sequence,
                    options_.domain);
  return m;
}

void IpfixEncoder::send_templates() {
  flush();
  const auto m = templates_message(sequence_);
  send_(m, 0);
}

}  // namespace sockscope
