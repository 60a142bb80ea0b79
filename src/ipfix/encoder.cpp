// The IPFIX encoder: conversations into flow records, records into messages of
// templates and data sets. Standard library only (the fuzz preset builds it).
#include <algorithm>
#include <array>
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

// The TCP flags a history letter proves (either case: upper case is the client's).
constexpr std::array<std::uint8_t, 256> kLetterFlags = [] {
  std::array<std::uint8_t, 256> t{};
  for (const char side : {'a' - 'A', 0}) {
    t[std::uint8_t('S' + side)] = ipfix::kSyn;
    t[std::uint8_t('H' + side)] = ipfix::kSyn | ipfix::kAck;
    t[std::uint8_t('A' + side)] = ipfix::kAck;
    t[std::uint8_t('F' + side)] = ipfix::kFin;
    t[std::uint8_t('R' + side)] = ipfix::kRst;
  }
  return t;
}();

// Both directions' flags from a history, in one pass: [0] the client's, [1] the server's.
void tcp_flags_of(std::string_view history, std::uint16_t flags[2]) {
  for (const char letter : history) {
    flags[!(letter >= 'A' && letter <= 'Z')] |= kLetterFlags[std::uint8_t(letter)];
  }
}

// ICMP records carry type * 256 + code as the destination port (NetFlow's custom) and
// no source port. The client's: its type, and the code unless the type is one of a
// request/reply pair (the conversation's server "port" is then the reply type).
std::uint16_t icmp_client_port(const Conversation& c) {
  const std::uint8_t protocol = ip_protocol(c.pair.transport, c.pair.first.address.family());
  const std::uint16_t type = c.pair.first.port;
  std::uint16_t other = 0;
  const bool paired = icmp_counterpart(protocol, type, &other);
  return std::uint16_t(type << 8 | (paired ? 0 : c.pair.second.port & 0xff));
}

}  // namespace

// The records are written in place, as ipfix::client_first() orders them: built, copied
// and copied again, with the history read three times, they cost ~1,000 instructions a
// conversation (cachegrind), as much as counting 4 of its packets.
std::size_t flow_records(const Conversation& c, bool biflow, FlowRecord out[2]) {
  std::uint16_t flags[2] = {0, 0};
  const bool tcp = c.pair.transport == Transport::kTcp;
  if (tcp) tcp_flags_of(c.history, flags);
  const bool closed = tcp && ((flags[0] | flags[1]) & (ipfix::kFin | ipfix::kRst)) != 0;
  const IpfixEndReason reason = c.evicted_early ? IpfixEndReason::kLackOfResources
                                : c.open        ? IpfixEndReason::kActiveTimeout
                                : closed        ? IpfixEndReason::kEndOfFlow
                                                : IpfixEndReason::kIdleTimeout;
  const auto fill = [&](FlowRecord& r, const SocketPair& pair, const DirectionStats& sent,
                        std::uint16_t tcp_flags) {
    r.pair = pair;
    r.start_ms = c.first_ns / 1'000'000;
    r.end_ms = c.last_ns / 1'000'000;
    r.octets = sent.ip_bytes;
    r.packets = sent.packets;
    r.tcp_flags = tcp_flags;
    r.end_reason = reason;
    r.vlan = std::uint16_t(c.vlan > 0xfff ? (c.vlan >> 12) & 0xfff : c.vlan);
    r.reverse_octets = r.reverse_packets = 0;
    r.reverse_tcp_flags = 0;
  };
  const bool icmp = c.pair.transport == Transport::kIcmp;
  const auto icmp_ports = [&](FlowRecord& r, bool from_client) {
    r.pair.first.port = 0;
    r.pair.second.port = from_client ? icmp_client_port(c) : std::uint16_t(c.pair.second.port << 8);
  };
  if (biflow) {
    FlowRecord& r = out[0];
    fill(r, c.pair, c.client, flags[0]);
    r.reverse_octets = c.server.ip_bytes;
    r.reverse_packets = c.server.packets;
    r.reverse_tcp_flags = flags[1];
    if (icmp) icmp_ports(r, true);
    return 1;
  }
  std::size_t n = 0;
  if (c.client.packets) {
    fill(out[n], c.pair, c.client, flags[0]);
    if (icmp) icmp_ports(out[n], true);
    ++n;
  }
  if (c.server.packets) {
    fill(out[n], c.pair.reversed(), c.server, flags[1]);
    if (icmp) icmp_ports(out[n], false);
    ++n;
  }
  return n;
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
  if (message_.size() != options_.max_message) message_.assign(options_.max_message, 0);
  used_ = ipfix::kMessageHeader;
  set_id_ = 0;
  records_ = 0;
}

void IpfixEncoder::finish_message() {
  if (set_id_) put16(message_.data() + set_start_ + 2, std::uint16_t(used_ - set_start_));
  ipfix::put_header(message_.data(), std::uint16_t(used_), std::uint32_t(now_ns() / 1e9), sequence_,
                    options_.domain);
  const std::size_t records = records_;
  sequence_ += std::uint32_t(records);
  const std::size_t used = used_;
  used_ = 0;
  set_id_ = 0;
  records_ = 0;
  send_(std::span<const std::uint8_t>(message_.data(), used), records);
}

void IpfixEncoder::add(const FlowRecord& r) {
  const ipfix::TemplateKey key = ipfix::template_of(r, options_.biflow);
  const std::size_t size = ipfix::record_size(key);
  if (!used_) begin_message();
  const bool new_set = set_id_ != key.id();
  if (used_ + (new_set ? ipfix::kSetHeader : 0) + size > options_.max_message) {
    finish_message();
    begin_message();
  }
  if (set_id_ != key.id()) {
    if (set_id_) put16(message_.data() + set_start_ + 2, std::uint16_t(used_ - set_start_));
    set_start_ = used_;
    set_id_ = key.id();
    put16(message_.data() + set_start_, set_id_);
    used_ += ipfix::kSetHeader;
  }
  ipfix::put_record(message_.data() + used_, key, r);
  used_ += size;
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
