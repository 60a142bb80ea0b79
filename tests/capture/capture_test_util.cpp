#include "capture/capture_test_util.hpp"

#include "capture/packet_loop.hpp"

namespace sockscope::testing {

CaptureRun run_capture(const std::string& bytes, ConversationOptions options, bool one_thread) {
  CaptureRun run;
  auto reader = CaptureReader::from_memory(bytes);
  if (!reader) {
    run.open_error = reader.error();
    return run;
  }
  ConversationTable table(options, [&](const Conversation& c) { run.conversations.push_back(c); });
  if (one_thread) {
    capture_detail::feed_table(**reader, table, run.stats, [] {});
  } else {
    read_capture(**reader, table, run.stats);
  }
  table.finish();
  run.read_error = (*reader)->error();
  run.evicted_early = table.evicted_early();
  return run;
}

void Builder::tcp(double t, const char* src, std::uint16_t sport, const char* dst,
                  std::uint16_t dport, std::uint8_t flags, std::uint32_t seq, std::uint32_t ack,
                  std::uint32_t payload, std::uint16_t window) {
  Packet p{.src = *IpAddress::parse(src),
           .dst = *IpAddress::parse(dst),
           .protocol = 6,
           .sport = sport,
           .dport = dport,
           .flags = flags,
           .seq = seq,
           .ack = ack,
           .window = window,
           .payload = payload};
  const Bytes f = frame(1, build_ip(p), vlans);
  last_frame_size = f.size();
  w.packet(at(t), f);
}

void Builder::udp(double t, const char* src, std::uint16_t sport, const char* dst,
                  std::uint16_t dport, std::uint32_t payload) {
  Packet p{.src = *IpAddress::parse(src),
           .dst = *IpAddress::parse(dst),
           .protocol = 17,
           .sport = sport,
           .dport = dport,
           .payload = payload};
  const Bytes f = frame(1, build_ip(p), vlans);
  last_frame_size = f.size();
  w.packet(at(t), f);
}

void Builder::icmp(double t, const char* src, const char* dst, std::uint8_t type, std::uint8_t code,
                   std::uint16_t id, const Bytes& quote) {
  Packet p{.src = *IpAddress::parse(src), .dst = *IpAddress::parse(dst)};
  p.protocol = p.src.is_v4() ? 1 : 58;
  p.icmp_type = type;
  p.icmp_code = code;
  p.icmp_id = id;
  p.icmp_quote = quote;
  const Bytes f = frame(1, build_ip(p), vlans);
  last_frame_size = f.size();
  w.packet(at(t), f);
}

CaptureRun Builder::run(ConversationOptions options) const {
  return run_capture(w.bytes(), options);
}

std::vector<const Conversation*> by_client(const CaptureRun& run, const std::string& client) {
  std::vector<const Conversation*> out;
  for (const auto& c : run.conversations) {
    if (c.pair.first.to_string() == client) out.push_back(&c);
  }
  return out;
}

}  // namespace sockscope::testing
