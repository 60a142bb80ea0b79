// The IPFIX encoder and the test decoder. Properties: any bytes given to the
// decoder end in messages or one error, never a crash; records built from the
// input, encoded in messages of any allowed size and decoded again, come back
// equal, in order, with sequence numbers counting them and no message over the
// limit; the destination parser never crashes on any text.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "ipfix/decoder.hpp"
#include "sockscope/ipfix.hpp"

namespace {

using sockscope::FlowRecord;

// One record from 48 input bytes (addresses, ports, counts, flags, VLAN, family).
FlowRecord record_of(const std::uint8_t* p) {
  FlowRecord r;
  const bool v6 = p[0] & 1;
  const sockscope::Transport transports[] = {sockscope::Transport::kTcp, sockscope::Transport::kUdp,
                                             sockscope::Transport::kSctp};
  r.pair.transport = transports[p[1] % 3];
  r.pair.first.address =
      v6 ? sockscope::IpAddress::v6_bytes(p + 2) : sockscope::IpAddress::v4_bytes(p + 2);
  r.pair.second.address =
      v6 ? sockscope::IpAddress::v6_bytes(p + 18) : sockscope::IpAddress::v4_bytes(p + 18);
  r.pair.first.port = std::uint16_t(p[34] << 8 | p[35]);
  r.pair.second.port = std::uint16_t(p[36] << 8 | p[37]);
  r.octets = std::uint64_t(p[38]) << 40 | p[39];
  r.packets = p[40];
  r.start_ms = std::uint64_t(p[41]) << 32;
  r.end_ms = r.start_ms + p[42];
  r.tcp_flags = p[43];
  r.vlan = std::uint16_t((p[44] << 8 | p[45]) & 0xfff);
  r.end_reason = sockscope::IpfixEndReason(1 + p[46] % 5);
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sockscope::ipfix::Decoder raw;
  (void)raw.decode({data, size});
  (void)sockscope::parse_ipfix_destination({reinterpret_cast<const char*>(data), size});
  if (size < 3) return 0;
  sockscope::IpfixOptions o;
  o.max_message = 256 + (std::size_t(data[0] << 8 | data[1]) % (65535 - 256 + 1));
  o.biflow = data[2] & 1;
  o.clock = [] { return std::uint64_t(1) << 60; };
  std::vector<FlowRecord> records;
  for (std::size_t at = 3; size - at >= 48; at += 48) records.push_back(record_of(data + at));
  std::vector<std::vector<std::uint8_t>> messages;
  std::uint32_t expected_sequence = 0;
  sockscope::IpfixEncoder encoder(o, [&](auto m, std::size_t n) {
    if (m.size() > o.max_message) std::abort();
    if ((std::uint32_t(m[8]) << 24 | m[9] << 16 | m[10] << 8 | m[11]) != expected_sequence) {
      std::abort();
    }
    expected_sequence += std::uint32_t(n);
    messages.emplace_back(m.begin(), m.end());
  });
  for (const FlowRecord& r : records) encoder.add(r);
  encoder.flush();
  sockscope::ipfix::Decoder decoder;
  if (!decoder.decode(encoder.templates_message(0))) std::abort();
  for (const auto& m : messages) {
    if (!decoder.decode(m)) std::abort();
  }
  if (decoder.records.size() != records.size()) std::abort();
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& d = decoder.records[i];
    const FlowRecord& r = records[i];
    if (d.get(1) != r.octets || d.get(2) != r.packets || d.get(7) != r.pair.first.port ||
        d.get(11) != r.pair.second.port || d.get(152) != r.start_ms || d.get(6) != r.tcp_flags ||
        d.get(58) != r.vlan || (o.biflow && !d.has(1, 29305))) {
      std::abort();
    }
  }
  return 0;
}
