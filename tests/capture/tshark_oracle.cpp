#include "capture/tshark_oracle.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "support/run_command.hpp"

namespace sockscope::testing {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(s);
  while (std::getline(in, field, sep)) out.push_back(field);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

std::vector<std::string> args(const std::vector<std::string>& head,
                              const std::vector<std::string>& extra, const std::string& path,
                              const std::vector<std::string>& tail) {
  std::vector<std::string> a = head;
  a.insert(a.end(), extra.begin(), extra.end());
  a.push_back("-r");
  a.push_back(path);
  a.insert(a.end(), tail.begin(), tail.end());
  return a;
}

// The per-packet fields, and the walk over a packet's layers (frame.protocols) that
// pairs each UDP/TCP/ICMP layer with the IP header before it.
constexpr const char* kFields[] = {"frame.protocols", "communityid", "ip.src",      "ip.dst",
                                   "ip.len",          "ipv6.src",    "ipv6.dst",    "ipv6.plen",
                                   "udp.srcport",     "udp.dstport", "tcp.srcport", "tcp.dstport"};

struct Layers {
  std::vector<ConvKey> conversations;  // UDP and TCP layers, outermost first
  bool has_flow = false;               // a UDP, TCP or ICMP layer
  bool icmp_innermost = false;
  std::uint64_t inner_ip_bytes = 0;  // of the IP header of the innermost flow
};

Layers walk(const std::vector<std::string>& f) {
  std::vector<std::vector<std::string>> v;
  for (const auto& field : f) v.push_back(split(field, ','));
  std::size_t ip = 0, ip6 = 0, udp = 0, tcp = 0;
  std::string src, dst;
  std::uint64_t len = 0;
  Layers out;
  auto at = [&](std::size_t field, std::size_t i) {
    return i < v[field].size() ? v[field][i] : std::string();
  };
  for (const std::string& layer : split(f[0], ':')) {
    if (layer == "ip") {
      src = at(2, ip), dst = at(3, ip), len = std::stoull(at(4, ip));
      ++ip;
    } else if (layer == "ipv6") {
      src = at(5, ip6), dst = at(6, ip6), len = 40 + std::stoull(at(7, ip6));
      ++ip6;
    } else if (layer == "udp" || layer == "tcp") {
      std::size_t& i = layer == "udp" ? udp : tcp;
      const std::size_t port = layer == "udp" ? 8 : 10;
      out.conversations.push_back(
          conv_key(layer, src + ":" + at(port, i), dst + ":" + at(port + 1, i)));
      ++i;
      out.has_flow = true;
      out.inner_ip_bytes = len;
    } else if (layer == "icmp" || layer == "icmpv6") {
      out.has_flow = true;
      out.icmp_innermost = true;
      out.inner_ip_bytes = len;
      break;  // what an ICMP error quotes is not a layer of this packet
    }
  }
  return out;
}

}  // namespace

std::string tshark_endpoint(const Endpoint& ep) {
  return ep.address.to_string() + ":" + std::to_string(ep.port);
}

bool have_tshark() { return run_command({"tshark", "--version"}, 30).exit_code == 0; }

ConvKey conv_key(std::string transport, const std::string& x, const std::string& y) {
  return x < y ? ConvKey{std::move(transport), x, y} : ConvKey{std::move(transport), y, x};
}

ConvKey conv_key(const Conversation& c) {
  return conv_key(std::string(to_string(c.pair.transport)), tshark_endpoint(c.pair.first),
                  tshark_endpoint(c.pair.second));
}

std::map<ConvKey, ConvSides> tshark_conversations(const std::string& path,
                                                  const std::vector<std::string>& extra) {
  auto r = run_command(
      args({"tshark", "-n"}, extra, path, {"-q", "-z", "conv,tcp", "-z", "conv,udp"}), 120);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // Lines: "A <-> B  <-frames bytes unit  ->frames bytes unit ...": "<-" counts frames
  // from B to A, "->" from A to B.
  std::map<ConvKey, ConvSides> theirs;
  std::string transport;
  for (const auto& line : lines(r.out)) {
    if (line.starts_with("TCP Conversations")) transport = "tcp";
    if (line.starts_with("UDP Conversations")) transport = "udp";
    std::istringstream in(line);
    std::vector<std::string> t;
    for (std::string w; in >> w;) t.push_back(w);
    if (t.size() < 12 || t[1] != "<->") continue;
    ConvSides s{std::stoull(t[6]), std::stoull(t[3])};
    const ConvKey k = conv_key(transport, t[0], t[2]);
    if (k.a != t[0]) std::swap(s.packets_from_a, s.packets_from_b);
    EXPECT_TRUE(theirs.emplace(k, s).second) << "duplicate conversation " << line;
  }
  return theirs;
}

TsharkFlows tshark_flows(const std::string& path, const std::vector<std::string>& extra) {
  std::vector<std::string> tail = {
      "--enable-protocol", "communityid", "-T",          "fields", "-E",
      "occurrence=a",      "-E",          "aggregator=,"};
  for (const char* f : kFields) {
    tail.push_back("-e");
    tail.push_back(f);
  }
  auto r = run_command(args({"tshark", "-n"}, extra, path, tail), 120);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  TsharkFlows flows;
  for (const auto& line : lines(r.out)) {
    auto f = split(line, '\t');
    f.resize(std::size(kFields));
    ++flows.frames;
    const Layers l = walk(f);
    if (!l.has_flow) continue;
    auto& [packets, bytes] = flows.by_community_id[f[1]];
    ++packets;
    bytes += l.inner_ip_bytes;
    // Every UDP/TCP layer but the innermost flow is a tunnel's outer conversation.
    const std::size_t outer = l.conversations.size() - (l.icmp_innermost ? 0 : 1);
    for (std::size_t i = 0; i < outer; ++i) flows.outer.insert(l.conversations[i]);
  }
  return flows;
}

std::size_t expect_agrees_with_tshark(const std::vector<Conversation>& conversations,
                                      const std::string& path,
                                      const std::vector<std::string>& extra) {
  const auto tables = tshark_conversations(path, extra);
  const TsharkFlows flows = tshark_flows(path, extra);
  std::map<ConvKey, ConvSides> ours;
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> ours_by_id;
  for (const Conversation& c : conversations) {
    const ConvKey k = conv_key(c);
    if (c.pair.transport == Transport::kTcp || c.pair.transport == Transport::kUdp) {
      const bool client_is_a = k.a == tshark_endpoint(c.pair.first);
      ConvSides& s = ours[k];
      s.packets_from_a += client_is_a ? c.client.packets : c.server.packets;
      s.packets_from_b += client_is_a ? c.server.packets : c.client.packets;
    }
    if (flows.outer.count(k)) continue;
    auto& [packets, bytes] = ours_by_id[c.community_id()];
    packets += c.packets();
    bytes += c.ip_bytes();
  }
  EXPECT_EQ(ours.size(), tables.size());
  for (const auto& [k, theirs] : tables) {
    auto it = ours.find(k);
    if (it == ours.end()) {
      ADD_FAILURE() << "tshark's " << k.transport << " " << k.a << " <-> " << k.b << " is missing";
      continue;
    }
    EXPECT_EQ(it->second.packets_from_a, theirs.packets_from_a) << k.a << " <-> " << k.b;
    EXPECT_EQ(it->second.packets_from_b, theirs.packets_from_b) << k.a << " <-> " << k.b;
  }
  EXPECT_EQ(ours_by_id.size(), flows.by_community_id.size());
  for (const auto& [id, theirs] : flows.by_community_id) {
    auto it = ours_by_id.find(id);
    if (it == ours_by_id.end()) {
      ADD_FAILURE() << "tshark's flow " << id << " (" << theirs.first << " packets) is missing";
      continue;
    }
    EXPECT_EQ(it->second, theirs) << id << ": (packets, IP bytes)";
  }
  return ours_by_id.size();
}

}  // namespace sockscope::testing
