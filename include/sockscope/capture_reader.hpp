// sockscope/capture_reader.hpp: reading pcap and pcapng files fast, and decoding packets.
//
//   #include <iostream>
//   auto reader = CaptureReader::open("sample.pcapng");  // or "-" for stdin
//   if (!reader) return 1;  // reader.error().what(): unreadable, not a capture
//   std::size_t packets = 0, tcp = 0;
//   RawPacket raw;
//   while ((*reader)->next(raw)) {
//     PacketInfo info;
//     DropReason why;
//     ++packets;
//     if (decode_packet(raw, info, why) && info.transport == Transport::kTcp) ++tcp;
//   }
//   if ((*reader)->error()) std::cerr << (*reader)->error()->what() << '\n';  // e.g. truncated
//   std::cout << packets << " packets, " << tcp << " tcp\n";  // => 429 packets, 270 tcp
//
// Or all of it at once: read_capture(**reader, table, stats).
//
// The reader is our own (standard library only, large read() calls into one buffer):
// classic pcap in both byte orders with micro- or nanosecond timestamps, and pcapng
// (section headers of both byte orders, interface blocks with their link type and
// if_tsresol/if_tsoffset, enhanced and simple packet blocks; other blocks are skipped).
// Anything else is Error::Code::kUnsupported, so a caller can hand it to libpcap.
//
// The decoder never reads outside the captured bytes: damaged or hostile packets end in
// a DropReason. Link types: Ethernet (1) with 802.1Q/802.1ad/QinQ tags, BSD null (0)
// and loop (108), raw IP (12, 14, 101, 228, 229), Linux cooked SLL (113) and SLL2 (276).
// decode_record() opens tunnels (capture.hpp's TunnelKind: VXLAN, Geneve, GRE and
// ERSPAN, IP in IP, Teredo, GTP-U, ...) and MPLS, PPPoE and NSH layers, up to
// kMaxTunnelDepth tunnels deep: a UDP tunnel's record gives its outer packet and the
// packets inside, each inner one with its Tunnel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sockscope/capture.hpp"
#include "sockscope/error.hpp"
#include "sockscope/ip_address.hpp"
#include "sockscope/transport.hpp"

namespace sockscope {

// One captured record: a view into the reader's buffer, valid until the next call.
struct RawPacket {
  std::uint64_t ts_ns = 0;     // nanoseconds since the Unix epoch
  std::uint32_t caplen = 0;    // bytes captured (data has this many)
  std::uint32_t wire_len = 0;  // bytes on the wire
  std::uint32_t linktype = 0;  // LINKTYPE_* value
  const std::uint8_t* data = nullptr;
};

// A decoded packet, ready for ConversationTable::add().
struct PacketInfo {
  enum class Kind : std::uint8_t {
    kNormal,     // addresses, transport and ports are known
    kFragment,   // a later IP fragment: only addresses, protocol and fragment id
    kIcmpError,  // an ICMP error quoting a packet: quoted_* name that packet's pair
    // Its transport checksum is wrong (DecodeOptions::verify_checksums): as in Zeek only
    // its pair counts (the C/c history letter), nothing else of it.
    kBadChecksum,
  };
  std::uint64_t ts_ns = 0;
  Kind kind = Kind::kNormal;
  Family family = Family::kV4;
  Transport transport = Transport::kTcp;
  std::uint8_t protocol = 0;    // IP protocol number
  std::uint8_t tcp_flags = 0;   // FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20
  bool first_fragment = false;  // offset 0 with more fragments to come
  bool sctp_init = false;       // the SCTP packet opens with an INIT chunk
  bool inner = false;           // inside a tunnel, after the record's outer packet (a UDP tunnel's)
  std::uint16_t src_port = 0;   // ICMP: the type
  std::uint16_t dst_port = 0;   // ICMP: the code
  std::uint16_t icmp_id = 0;    // echo/timestamp identifier (0 for other ICMP types)
  std::uint16_t window = 0;     // TCP window
  std::uint32_t vlan = 0;       // outer << 12 | inner
  std::uint32_t ip_bytes = 0;   // IP packet length from the IP header(s)
  std::uint32_t payload_bytes = 0;          // after the transport header
  std::uint32_t seq = 0, ack = 0;           // TCP
  std::uint32_t fragment_id = 0;            // IPv4 id or IPv6 fragment identification
  std::uint8_t src[16] = {}, dst[16] = {};  // network order; IPv4 in the first 4 bytes
  // kIcmpError: the quoted packet's pair (as it was sent).
  Transport quoted_transport = Transport::kTcp;
  std::uint8_t quoted_src[16] = {}, quoted_dst[16] = {};
  std::uint16_t quoted_src_port = 0, quoted_dst_port = 0;
  // Inside a tunnel: its kind (kNone otherwise). The whole Tunnel, outer header and
  // all, is decode_record()'s `tunnels[i]` for out[i]: kept beside the packets, which
  // then stay small for the read loop's hand-over, and read only when a tunnelled
  // packet opens a conversation.
  TunnelKind tunnel = TunnelKind::kNone;

  bool operator==(const PacketInfo&) const = default;  // every field
};

// Decodes the outermost packet of one record, without opening tunnels. Returns false
// with `why` set when the packet cannot be counted on a conversation. Never reads past
// raw.data + raw.caplen.
bool decode_packet(const RawPacket& raw, PacketInfo& out, DropReason& why);

struct DecodeOptions {
  // Check IPv4 header, TCP, UDP and ICMP/ICMPv6 checksums where the packet was captured
  // whole: a bad IPv4 header drops the record, a bad transport checksum makes the
  // packet's kind kBadChecksum.
  bool verify_checksums = false;
  // Open tunnels (capture.hpp's TunnelKind) and MPLS, PPPoE and NSH layers.
  bool open_tunnels = true;
};
// What decode_record() made of a record: `count` packets written (the outermost
// first), or none and `why`. With packets written, `inner_dropped` says that a tunnel's
// inside could not be decoded, and `why` why.
struct DecodeResult {
  std::size_t count = 0;
  bool inner_dropped = false;
  DropReason why = DropReason::kNotIp;
  std::uint32_t tunnels = 0;  // bit 1 << TunnelKind for each kind opened
};
// Decodes one record into the packets it carries: its own packet, and inside a UDP
// tunnel the packets it encapsulates; inside an IP-level tunnel (GRE, IP in IP) only
// the inner packet, the outer header having no ports. `out` (and `tunnels`, when given)
// have room for kMaxPacketsPerRecord; tunnels[i] is set where out[i].tunnel is not
// kNone. Never reads past raw.data + raw.caplen.
inline constexpr std::size_t kMaxPacketsPerRecord = kMaxTunnelDepth + 1;
DecodeResult decode_record(const RawPacket& raw, PacketInfo* out, const DecodeOptions& options = {},
                           Tunnel* tunnels = nullptr);

enum class CaptureFormat : std::uint8_t { kPcap, kPcapNg };

// A compressed capture file, recognised by its magic number and read as a stream.
enum class Compression : std::uint8_t { kNone, kGzip, kZlib, kZstd, kLz4 };
std::string_view to_string(Compression c);  // "none", "gzip", "zlib", "zstd", "lz4"

class CaptureReader {
 public:
  // Opens a file ("-" = standard input) and reads its header. A file compressed with
  // gzip, zlib, zstd or LZ4 (by magic number, whatever its name) is read through the
  // decompressor as a stream. kUnsupported when the file is not classic pcap or pcapng
  // (libpcap may still read it), kIo when it cannot be opened, kTruncated when even the
  // header is incomplete.
  static std::expected<std::unique_ptr<CaptureReader>, Error> open(const std::string& path);
  // The same over bytes in memory (tests, fuzzing); `bytes` must outlive the reader.
  static std::expected<std::unique_ptr<CaptureReader>, Error> from_memory(
      std::string_view bytes, std::string name = "memory");
  ~CaptureReader();
  CaptureReader(const CaptureReader&) = delete;
  CaptureReader& operator=(const CaptureReader&) = delete;

  // The next packet record; false at the end of the input or when it is damaged
  // (error() then says what and at which byte offset).
  bool next(RawPacket& out) {
    // Classic pcap in this machine's byte order with the whole record buffered, the
    // case of nearly every record, inline; the rest (refills, pcapng, other byte
    // order, damage) out of line, with the same results.
    Window& w = window_;
    if (w.plain_pcap && w.end - w.pos >= 16) {
      std::uint32_t h[4];  // seconds, fraction, captured and original length
      std::memcpy(h, w.buf + w.pos, sizeof h);
      const std::size_t record = 16 + std::size_t(h[2]);
      if (h[2] <= kMaxRecord && w.end - w.pos >= record) {
        out.ts_ns = std::uint64_t(h[0]) * 1'000'000'000u + std::uint64_t(h[1]) * w.ts_scale;
        out.caplen = h[2];
        out.wire_len = h[3];
        out.linktype = w.linktype;
        out.data = w.buf + w.pos + 16;
        w.pos += record;
        w.consumed += record;
        return true;
      }
    }
    return next_slow(out);
  }
  const std::optional<Error>& error() const;
  CaptureFormat format() const;
  const std::string& name() const;
  Compression compression() const;
  // Bytes of the capture (decompressed) consumed so far.
  std::uint64_t offset() const { return window_.consumed; }
  // Bytes of the file read so far (compressed, when it is): for progress against size().
  std::uint64_t input_offset() const;
  std::uint64_t size() const;  // 0 when unknown (pipes)

 private:
  struct Impl;  // the input, decompressor, pcapng interfaces, error (capture_reader.cpp)
  // The buffered bytes next() walks inline. Kept here, not in Impl, because next()
  // runs once per record on the read loop: out of line it cost ~10 instructions more
  // per record (callgrind, 294,465 records: decode loop +7.0%, reader and table +1.7%).
  struct Window {
    const std::uint8_t* buf = nullptr;
    std::size_t pos = 0, end = 0;
    std::uint64_t consumed = 0;
    std::uint32_t ts_scale = 1000;  // pcap: ns per fraction unit (1000 for us, 1 for ns)
    std::uint32_t linktype = 0;
    bool plain_pcap = false;  // classic pcap, our byte order, no error yet
  };
  static constexpr std::uint32_t kMaxRecord = 16u << 20;  // larger records are damage
  CaptureReader();
  bool next_slow(RawPacket& out);

  Window window_;
  std::unique_ptr<Impl> impl_;
};

// Reads every record of `reader`, decodes it and feeds `table`; counts go to `stats`.
// `progress` (optional) is called now and then with the bytes consumed so far.
// Two threads: the calling thread reads and decodes (and calls `progress`), a worker
// counts on the table, so the table's emit callback runs on that worker while this
// call lasts (one call at a time, in order). An exception from the callback ends the
// run and is rethrown here. The results equal a one-thread loop's.
void read_capture(CaptureReader& reader, ConversationTable& table, CaptureStats& stats,
                  const std::function<void(std::uint64_t)>& progress = {});

}  // namespace sockscope
