// The packet decoder (tunnels, MPLS/PPPoE/NSH layers and checksums included) and the
// conversation table on arbitrary bytes. Input: the first byte picks a link type, the
// second the wire length's excess and whether checksums are checked, the rest is one
// captured frame. Properties: no read outside the frame (ASan), no more packets than
// kMaxPacketsPerRecord and no tunnel deeper than kMaxTunnelDepth, decoded lengths are
// consistent, a record either yields packets or a drop reason, the table survives any
// sequence, and the read loop's inline decoders (capture/packet_fast.hpp: the common
// shape, and VXLAN around it), where they accept a record, give exactly the packets the
// general decoder gives.
#include <cstdint>
#include <cstdlib>

#include "capture/packet_fast.hpp"
#include "sockscope/capture.hpp"
#include "sockscope/capture_reader.hpp"

namespace {
constexpr std::uint32_t kLinkTypes[] = {1, 0, 108, 101, 12, 14, 228, 229, 113, 276, 147};

void check(const sockscope::PacketInfo& p, const sockscope::Tunnel& t) {
  if (p.kind == sockscope::PacketInfo::Kind::kNormal && p.payload_bytes > p.ip_bytes) {
    std::abort();  // a payload cannot exceed its IP packet
  }
  if (p.tunnel == sockscope::TunnelKind::kNone) return;  // tunnels[i] is not set
  if (t.kind != p.tunnel || t.depth == 0 || t.depth > sockscope::kMaxTunnelDepth) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  static sockscope::ConversationTable table(
      [] {
        sockscope::ConversationOptions o;
        o.max_conversations = 64;
        return o;
      }(),
      {});
  static std::uint64_t now = 1;
  sockscope::RawPacket raw;
  raw.linktype = kLinkTypes[data[0] % std::size(kLinkTypes)];
  raw.data = data + 2;
  raw.caplen = std::uint32_t(size - 2);
  raw.wire_len = raw.caplen + (data[1] & 0x7f);
  raw.ts_ns = now += 1'000'000'000ull * (data[1] & 3);
  const sockscope::DecodeOptions options{.verify_checksums = (data[1] & 0x80) != 0};
  sockscope::PacketInfo packets[sockscope::kMaxPacketsPerRecord], fast;
  sockscope::Tunnel tunnels[sockscope::kMaxPacketsPerRecord];
  const sockscope::DecodeResult r = sockscope::decode_record(raw, packets, options, tunnels);
  if (r.count > sockscope::kMaxPacketsPerRecord) std::abort();
  if (r.count == 0 && std::size_t(r.why) >= sockscope::kDropReasonCount) std::abort();
  if (!options.verify_checksums && sockscope::capture_detail::decode_common(raw, fast) &&
      (r.count != 1 || !(fast == packets[0]))) {
    std::abort();
  }
  sockscope::PacketInfo vxlan[2];
  sockscope::Tunnel vxlan_tunnels[2];
  if (!options.verify_checksums &&
      sockscope::capture_detail::decode_vxlan_common(raw, vxlan, vxlan_tunnels) &&
      (r.count != 2 || !(vxlan[0] == packets[0]) || !(vxlan[1] == packets[1]) ||
       !(vxlan_tunnels[1] == tunnels[1]))) {
    std::abort();
  }
  for (std::size_t i = 0; i < r.count; ++i) {
    check(packets[i], tunnels[i]);
    table.add(packets[i], &tunnels[i]);
  }
  sockscope::PacketInfo outermost;
  sockscope::DropReason why;
  if (sockscope::decode_packet(raw, outermost, why) &&
      outermost.tunnel != sockscope::TunnelKind::kNone)
    std::abort();
  return 0;
}
