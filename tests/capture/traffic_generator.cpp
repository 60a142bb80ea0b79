#include "capture/traffic_generator.hpp"

#include <vector>

#include "capture/tunnel_builder.hpp"

namespace sockscope::testing {
namespace {

struct Random {
  std::uint64_t state;
  std::uint64_t next() {  // splitmix64
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return n ? next() % n : 0; }
  bool chance(double p) { return double(next() >> 11) / double(1ull << 53) < p; }
};

struct Conv {
  std::uint64_t id = 0;
  bool tcp = true, rst = false;
  std::uint16_t vlan = 0;
  IpAddress client, server;
  std::uint16_t cport = 0, sport = 0;
  std::uint32_t total = 0, step = 0;
  std::uint32_t cseq = 0, sseq = 0;
};

constexpr std::uint16_t kTcpPorts[] = {443, 443, 443, 80, 80, 22, 25, 8080, 3306, 5432};
constexpr std::uint16_t kUdpPorts[] = {53, 53, 53, 123, 161, 514, 1194, 4500};

Conv new_conversation(std::uint64_t id, const TrafficOptions& o, Random& rng,
                      std::uint64_t per_conv) {
  Conv c;
  c.id = id;
  c.tcp = !rng.chance(o.udp_share);
  const bool v6 = rng.chance(o.ipv6_share);
  c.vlan = rng.chance(o.vlan_share) ? std::uint16_t(10 + id % 4) : 0;
  const std::uint32_t server = std::uint32_t(rng.below(256));
  if (v6) {
    std::uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1};
    for (int i = 0; i < 4; ++i) a[12 + i] = std::uint8_t(id >> (24 - 8 * i));
    c.client = IpAddress::v6_bytes(a);
    std::uint8_t s[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff};
    s[15] = std::uint8_t(server);
    c.server = IpAddress::v6_bytes(s);
  } else {
    c.client = IpAddress::v4(0x0a000000u | std::uint32_t(id & 0xffffff));
    c.server = IpAddress::v4(0xc6336400u | server);  // 198.51.100.x
  }
  c.cport = std::uint16_t(32768 + rng.below(28232));
  if (c.tcp) {
    c.sport = kTcpPorts[rng.below(std::size(kTcpPorts))];
    const std::uint64_t p = per_conv < 7 ? 7 : per_conv;
    c.total = std::uint32_t(6 + rng.below(2 * (p - 6) + 1));
    c.rst = rng.chance(0.1);
    c.cseq = std::uint32_t(rng.next());
    c.sseq = std::uint32_t(rng.next());
  } else {
    c.sport = kUdpPorts[rng.below(std::size(kUdpPorts))];
    const std::uint64_t p = per_conv < 1 ? 1 : per_conv;
    c.total = std::uint32_t(1 + rng.below(2 * p - 1));
  }
  return c;
}

// The next packet of a conversation.
Packet next_packet(Conv& c, Random& rng) {
  Packet p;
  const std::uint32_t k = c.step++;
  bool from_client = true;
  if (!c.tcp) {
    from_client = k % 2 == 0;
    p.protocol = 17;
    p.payload = std::uint32_t(from_client ? 20 + rng.below(180) : 40 + rng.below(1160));
  } else {
    p.protocol = 6;
    const std::uint32_t closing = c.rst ? 1 : 3;
    if (k == 0) {
      p.flags = kSyn;
    } else if (k == 1) {
      from_client = false;
      p.flags = kSyn | kAck;
    } else if (k == 2) {
      p.flags = kAck;
    } else if (k + closing < c.total) {
      from_client = rng.chance(0.4);
      p.flags = kAck | kPsh;
      p.payload = std::uint32_t(rng.chance(0.2) ? 0 : rng.below(1400));
      p.tcp_options = 12;
    } else if (c.rst) {
      p.flags = kRst | kAck;
    } else {
      const std::uint32_t i = k + closing - c.total;  // 0, 1, 2
      from_client = i != 1;
      p.flags = i == 2 ? kAck : kFin | kAck;
    }
    p.seq = from_client ? c.cseq : c.sseq;
    p.ack = from_client ? c.sseq : c.cseq;
    std::uint32_t& seq = from_client ? c.cseq : c.sseq;
    seq += p.payload + ((p.flags & (kSyn | kFin)) ? 1 : 0);
  }
  p.src = from_client ? c.client : c.server;
  p.dst = from_client ? c.server : c.client;
  p.sport = from_client ? c.cport : c.sport;
  p.dport = from_client ? c.sport : c.cport;
  return p;
}

// The frame inside VXLAN: endpoints by the conversation's ends, the source port a hash
// of the inner conversation and direction in Linux's ephemeral range.
Bytes in_vxlan(const Conv& c, bool from_client, const Bytes& inner, bool fixed_port) {
  const std::uint64_t h = (fixed_port ? 1 : c.id * 2 + from_client) * 0x9e3779b97f4a7c15ull;
  const std::uint8_t client_end = std::uint8_t(1 + c.id % 8),
                     server_end = std::uint8_t(101 + c.cport % 8);
  const std::string a = "192.0.2." + std::to_string(from_client ? client_end : server_end);
  const std::string b = "192.0.2." + std::to_string(from_client ? server_end : client_end);
  const auto port = std::uint16_t(32768 + (h >> 40) % 28232);
  return frame(
      1, carrier(a.c_str(), b.c_str(), 17, vxlan(std::uint32_t(c.id % 4096), inner), port, 4789));
}

}  // namespace

TrafficTotals generate_traffic(const TrafficOptions& o, std::FILE* file) {
  Random rng{o.seed};
  CaptureWriter w(o.format, 1, false, o.vxlan ? o.snaplen + 50 : o.snaplen);
  const std::uint64_t per_conv = o.conversations ? o.packets / o.conversations : 10;
  std::vector<Conv> pool;
  TrafficTotals totals;
  std::uint64_t next_id = 1;
  std::uint64_t t = o.start_ns;
  while (totals.packets < o.packets) {
    while (pool.size() < o.concurrent && totals.conversations < o.conversations) {
      pool.push_back(new_conversation(next_id++, o, rng, per_conv));
      ++totals.conversations;
    }
    if (pool.empty()) break;
    const std::size_t i = std::size_t(rng.below(pool.size()));
    Conv& c = pool[i];
    const Packet p = next_packet(c, rng);
    const std::vector<std::uint16_t> vlans =
        c.vlan ? std::vector<std::uint16_t>{c.vlan} : std::vector<std::uint16_t>{};
    Bytes f = frame(1, build_ip(p), vlans);
    if (o.vxlan) f = in_vxlan(c, p.src == c.client, f, o.vxlan_fixed_port);
    t += o.step_ns / 2 + rng.below(o.step_ns);
    w.packet(t, f);
    ++totals.packets;
    totals.bytes += f.size();
    if (c.step >= c.total) {
      pool[i] = pool.back();
      pool.pop_back();
    }
    if (w.bytes().size() > (1u << 20) && file) w.flush_to(file);
  }
  if (file) w.flush_to(file);
  return totals;
}

}  // namespace sockscope::testing
