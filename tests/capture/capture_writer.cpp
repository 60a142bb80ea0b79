#include "capture/capture_writer.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace sockscope::testing {
namespace {

void set16be(Bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = std::uint8_t(v >> 8);
  b[at + 1] = std::uint8_t(v);
}

std::uint16_t checksum(const std::uint8_t* p, std::size_t n, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < n; i += 2) sum += std::uint32_t(p[i] << 8 | p[i + 1]);
  if (n & 1) sum += std::uint32_t(p[n - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return std::uint16_t(~sum);
}

// The address the transport checksum covers (RFC 8200 8.1): a routing header's final
// destination while segments are left.
IpAddress checksum_destination(const Packet& p) {
  const bool routed = std::find(p.ipv6_ext.begin(), p.ipv6_ext.end(), 43) != p.ipv6_ext.end();
  if (!routed || p.segments_left == 0 || p.route.empty()) return p.dst;
  return p.routing_type == 0 ? p.route.back() : p.route.front();
}

// TCP, UDP and ICMPv6 checksums over the pseudo header, written into the segment at
// `t` (ICMPv4's has no pseudo header and is set in transport()).
void transport_checksum(const Packet& p, std::uint8_t* t, std::size_t len) {
  std::size_t at;
  switch (p.protocol) {
    case 6: at = 16; break;
    case 17: at = 6; break;
    case 58: at = 2; break;
    default: return;
  }
  if (len < at + 2) return;
  std::uint32_t sum = p.protocol + std::uint32_t(len & 0xffff) + std::uint32_t(len >> 16);
  for (const IpAddress& a : {p.src, checksum_destination(p)}) {
    const auto bytes = a.bytes();
    for (std::size_t i = 0; i < bytes.size(); i += 2)
      sum += std::uint32_t(bytes[i] << 8 | bytes[i + 1]);
  }
  t[at] = t[at + 1] = 0;
  std::uint16_t c = checksum(t, len, sum);
  if (c == 0 && p.protocol == 17) c = 0xffff;  // 0 would mean "no checksum"
  t[at] = std::uint8_t(c >> 8);
  t[at + 1] = std::uint8_t(c);
}

void ipv4_checksum(Bytes& ip) {
  const std::size_t ihl = std::size_t(ip[0] & 15) * 4;
  set16be(ip, 10, 0);
  set16be(ip, 10, checksum(ip.data(), ihl));
}

Bytes transport(const Packet& p) {
  Bytes t;
  switch (p.protocol) {
    case 6: {
      put16be(t, p.sport);
      put16be(t, p.dport);
      put32be(t, p.seq);
      put32be(t, p.ack);
      t.push_back(std::uint8_t(((20 + p.tcp_options) / 4) << 4));
      t.push_back(p.flags);
      put16be(t, p.window);
      put16be(t, 0);  // checksum: set by transport_checksum()
      put16be(t, 0);
      t.insert(t.end(), p.tcp_options, 1);  // NOP options
      break;
    }
    case 17:
      put16be(t, p.sport);
      put16be(t, p.dport);
      put16be(t, std::uint16_t(8 + p.payload + p.data.size()));
      put16be(t, 0);
      break;
    case 132:
      put16be(t, p.sport);
      put16be(t, p.dport);
      put32be(t, p.sctp_chunk == 1 ? 0 : 0x01020304);  // verification tag
      put32be(t, 0);
      if (p.sctp_chunk == 1) {  // INIT
        t.insert(t.end(), {1, 0, 0, 20});
        put32be(t, 0x11223344);
        put32be(t, 65536);
        put16be(t, 10);
        put16be(t, 10);
        put32be(t, 1);
      } else {  // DATA carrying the payload
        t.insert(t.end(), {0, 3});
        put16be(t, std::uint16_t(16 + p.payload));
        put32be(t, 1);
        put32be(t, 0);
        put32be(t, 0);
      }
      break;
    case 1:
    case 58:
      t.push_back(p.icmp_type);
      t.push_back(p.icmp_code);
      put16be(t, 0);
      put16be(t, p.icmp_id);
      put16be(t, 1);
      t.insert(t.end(), p.icmp_quote.begin(), p.icmp_quote.end());
      break;
    default: break;
  }
  for (std::uint32_t i = 0; i < p.payload; ++i) t.push_back(std::uint8_t('a' + i % 26));
  t.insert(t.end(), p.data.begin(), p.data.end());
  if (p.protocol == 1) set16be(t, 2, checksum(t.data(), t.size()));
  return t;
}

}  // namespace

void put16be(Bytes& b, std::uint16_t v) {
  b.push_back(std::uint8_t(v >> 8));
  b.push_back(std::uint8_t(v));
}
void put32be(Bytes& b, std::uint32_t v) {
  put16be(b, std::uint16_t(v >> 16));
  put16be(b, std::uint16_t(v));
}

IpAddress v4(const char* text) { return *IpAddress::parse(text); }
IpAddress v6(const char* text) { return *IpAddress::parse(text); }

Bytes build_ip(const Packet& p) {
  const Bytes t = transport(p);
  Bytes ip;
  if (p.src.is_v4()) {
    const std::size_t ihl = 20 + p.ipv4_options;
    ip.push_back(std::uint8_t(0x40 | (ihl / 4)));
    ip.push_back(0);
    put16be(ip, std::uint16_t(ihl + t.size()));
    put16be(ip, p.ip_id);
    put16be(ip, 0);
    ip.push_back(64);
    ip.push_back(p.protocol);
    put16be(ip, 0);
    for (auto b : p.src.bytes()) ip.push_back(b);
    for (auto b : p.dst.bytes()) ip.push_back(b);
    ip.insert(ip.end(), p.ipv4_options, 1);  // NOP options
    ip.insert(ip.end(), t.begin(), t.end());
    ipv4_checksum(ip);
    transport_checksum(p, ip.data() + ihl, t.size());
    return ip;
  }
  Bytes ext;
  for (std::size_t i = 0; i < p.ipv6_ext.size(); ++i) {
    const std::uint8_t next = i + 1 < p.ipv6_ext.size() ? p.ipv6_ext[i + 1] : p.protocol;
    if (p.ipv6_ext[i] == 43) {
      const auto n = std::uint8_t(p.route.size());
      ext.insert(ext.end(), {next, std::uint8_t(2 * n), p.routing_type, p.segments_left});
      // Type 4: last entry, flags, tag; types 0 and 2: reserved.
      ext.insert(ext.end(), {std::uint8_t(p.routing_type == 4 && n ? n - 1 : 0), 0, 0, 0});
      for (const IpAddress& a : p.route) {
        const auto bytes = a.bytes();
        ext.insert(ext.end(), bytes.begin(), bytes.end());
      }
    } else {
      ext.insert(ext.end(), {next, 0, 1, 4, 0, 0, 0, 0});  // options: one PadN
    }
  }
  ip.push_back(0x60);
  ip.insert(ip.end(), {0, 0, 0});
  put16be(ip, std::uint16_t(ext.size() + t.size()));
  ip.push_back(p.ipv6_ext.empty() ? p.protocol : p.ipv6_ext[0]);
  ip.push_back(64);
  for (auto b : p.src.bytes()) ip.push_back(b);
  for (auto b : p.dst.bytes()) ip.push_back(b);
  ip.insert(ip.end(), ext.begin(), ext.end());
  ip.insert(ip.end(), t.begin(), t.end());
  transport_checksum(p, ip.data() + 40 + ext.size(), t.size());
  return ip;
}

std::vector<Bytes> fragment(const Bytes& ip, std::size_t chunk, std::uint32_t id) {
  std::vector<Bytes> out;
  if ((ip[0] >> 4) == 4) {
    const std::size_t ihl = std::size_t(ip[0] & 15) * 4;
    for (std::size_t off = ihl; off < ip.size(); off += chunk) {
      const std::size_t n = std::min(chunk, ip.size() - off);
      Bytes f(ip.begin(), ip.begin() + std::ptrdiff_t(ihl));
      f.insert(f.end(), ip.begin() + std::ptrdiff_t(off), ip.begin() + std::ptrdiff_t(off + n));
      set16be(f, 2, std::uint16_t(f.size()));
      set16be(f, 4, std::uint16_t(id));
      const bool more = off + n < ip.size();
      set16be(f, 6, std::uint16_t(((off - ihl) / 8) | (more ? 0x2000 : 0)));
      ipv4_checksum(f);
      out.push_back(std::move(f));
    }
    return out;
  }
  const std::uint8_t next = ip[6];
  for (std::size_t off = 40; off < ip.size(); off += chunk) {
    const std::size_t n = std::min(chunk, ip.size() - off);
    Bytes f(ip.begin(), ip.begin() + 40);
    f[6] = 44;
    const bool more = off + n < ip.size();
    f.push_back(next);
    f.push_back(0);
    put16be(f, std::uint16_t((off - 40) | (more ? 1 : 0)));
    put32be(f, id);
    f.insert(f.end(), ip.begin() + std::ptrdiff_t(off), ip.begin() + std::ptrdiff_t(off + n));
    set16be(f, 4, std::uint16_t(f.size() - 40));
    out.push_back(std::move(f));
  }
  return out;
}

Bytes frame(std::uint32_t linktype, const Bytes& ip, const std::vector<std::uint16_t>& vlans) {
  const bool v6 = (ip[0] >> 4) == 6;
  const std::uint16_t ethertype = v6 ? 0x86dd : 0x0800;
  Bytes f;
  switch (linktype) {
    case 1:
      f.insert(f.end(), {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01});
      for (std::size_t i = 0; i < vlans.size(); ++i) {
        put16be(f, vlans.size() > 1 && i == 0 ? 0x88a8 : 0x8100);
        put16be(f, vlans[i]);
      }
      put16be(f, ethertype);
      break;
    case 0: {
      const std::uint32_t af = v6 ? 30 : 2;
      f.insert(f.end(), {std::uint8_t(af), 0, 0, 0});
      break;
    }
    case 108: put32be(f, v6 ? 24 : 2); break;
    case 113:
      f.insert(f.end(), {0, 0, 0, 1, 0, 6, 0x02, 0, 0, 0, 0, 0x01, 0, 0});
      put16be(f, ethertype);
      break;
    case 276:
      put16be(f, ethertype);
      f.insert(f.end(), {0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 0x02, 0, 0, 0, 0, 0x01, 0, 0});
      break;
    default:  // raw IP
      break;
  }
  f.insert(f.end(), ip.begin(), ip.end());
  return f;
}

CaptureWriter::CaptureWriter(Format format, std::uint32_t linktype, bool big_endian,
                             std::uint32_t snaplen)
    : format_(format), big_(big_endian), snaplen_(snaplen) {
  if (format_ == kPcapNg) {
    put32(0x0a0d0d0a);
    put32(28);
    put32(0x1a2b3c4d);
    put16(1);
    put16(0);
    put32(0xffffffff);
    put32(0xffffffff);
    put32(28);
    add_interface(linktype);
  } else {
    put32(format_ == kPcapNano ? 0xa1b23c4d : 0xa1b2c3d4);
    put16(2);
    put16(4);
    put32(0);
    put32(0);
    put32(snaplen);
    put32(linktype);
  }
}

std::uint32_t CaptureWriter::add_interface(std::uint32_t linktype, std::uint8_t tsresol) {
  const bool option = tsresol != 6;
  put32(1);
  put32(option ? 32 : 20);
  put16(std::uint16_t(linktype));
  put16(0);
  put32(snaplen_);
  if (option) {
    put16(9);
    put16(1);
    out_.push_back(char(tsresol));
    out_.append(3, '\0');
    put16(0);
    put16(0);
  }
  put32(option ? 32 : 20);
  tsresol_.push_back(tsresol);
  return std::uint32_t(tsresol_.size() - 1);
}

void CaptureWriter::packet(std::uint64_t ts_ns, const Bytes& f, std::uint32_t interface) {
  const std::uint32_t caplen = std::uint32_t(std::min<std::size_t>(f.size(), snaplen_));
  const std::uint32_t wire = std::uint32_t(f.size());
  if (format_ == kPcapNg) {
    std::uint64_t units = ts_ns;  // tsresol 9
    const std::uint8_t res = tsresol_[interface];
    if (res & 0x80) {
      units = std::uint64_t((unsigned __int128)ts_ns * (std::uint64_t(1) << (res & 0x7f)) /
                            1'000'000'000u);
    } else {
      for (int i = res; i < 9; ++i) units /= 10;
    }
    const std::uint32_t padded = (caplen + 3) & ~3u;
    put32(6);
    put32(32 + padded);
    put32(interface);
    put32(std::uint32_t(units >> 32));
    put32(std::uint32_t(units));
    put32(caplen);
    put32(wire);
    out_.append(reinterpret_cast<const char*>(f.data()), caplen);
    pad4();
    put32(32 + padded);
    return;
  }
  put32(std::uint32_t(ts_ns / 1'000'000'000u));
  const std::uint64_t frac = ts_ns % 1'000'000'000u;
  put32(std::uint32_t(format_ == kPcapNano ? frac : frac / 1000));
  put32(caplen);
  put32(wire);
  out_.append(reinterpret_cast<const char*>(f.data()), caplen);
}

void CaptureWriter::simple_packet(const Bytes& f) {
  const std::uint32_t caplen = std::uint32_t(std::min<std::size_t>(f.size(), snaplen_));
  const std::uint32_t padded = (caplen + 3) & ~3u;
  put32(3);
  put32(16 + padded);
  put32(std::uint32_t(f.size()));
  out_.append(reinterpret_cast<const char*>(f.data()), caplen);
  pad4();
  put32(16 + padded);
}

void CaptureWriter::skippable_block() {
  put32(4);  // name resolution block with only nrb_record_end
  put32(16);
  put32(0);
  put32(16);
}

bool CaptureWriter::write(const std::string& path) const {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  const bool ok = std::fwrite(out_.data(), 1, out_.size(), f) == out_.size();
  return std::fclose(f) == 0 && ok;
}

bool CaptureWriter::flush_to(std::FILE* file) {
  const bool ok = std::fwrite(out_.data(), 1, out_.size(), file) == out_.size();
  out_.clear();
  return ok;
}

void CaptureWriter::put16(std::uint16_t v) {
  if (big_) v = __builtin_bswap16(v);
  out_.append(reinterpret_cast<const char*>(&v), 2);
}
void CaptureWriter::put32(std::uint32_t v) {
  if (big_) v = __builtin_bswap32(v);
  out_.append(reinterpret_cast<const char*>(&v), 4);
}
void CaptureWriter::pad4() {
  while (out_.size() % 4) out_.push_back('\0');
}

}  // namespace sockscope::testing
