// Names of the capture layer's enums, Community IDs of conversations, run counters.
#include <iterator>

#include "sockscope/capture.hpp"
#include "sockscope/community_id.hpp"

namespace sockscope {

std::string_view to_string(ConnState state) {
  switch (state) {
    case ConnState::kS0: return "S0";
    case ConnState::kS1: return "S1";
    case ConnState::kSF: return "SF";
    case ConnState::kREJ: return "REJ";
    case ConnState::kS2: return "S2";
    case ConnState::kS3: return "S3";
    case ConnState::kRSTO: return "RSTO";
    case ConnState::kRSTR: return "RSTR";
    case ConnState::kRSTOS0: return "RSTOS0";
    case ConnState::kRSTRH: return "RSTRH";
    case ConnState::kSH: return "SH";
    case ConnState::kSHR: return "SHR";
    case ConnState::kOTH: return "OTH";
  }
  return "OTH";
}

std::string_view to_string(DropReason reason) {
  switch (reason) {
    case DropReason::kTruncatedLink: return "truncated-link";
    case DropReason::kUnsupportedLink: return "unsupported-link";
    case DropReason::kNotIp: return "not-ip";
    case DropReason::kTruncatedIp: return "truncated-ip";
    case DropReason::kBadIpHeader: return "bad-ip-header";
    case DropReason::kTruncatedTransport: return "truncated-transport";
    case DropReason::kBadTransportHeader: return "bad-transport-header";
    case DropReason::kOtherProtocol: return "other-protocol";
    case DropReason::kOrphanFragment: return "orphan-fragment";
    case DropReason::kTruncatedRecord: return "truncated-record";
    case DropReason::kBadIpChecksum: return "bad-ip-checksum";
    case DropReason::kTunnelTooDeep: return "tunnel-too-deep";
    case DropReason::kTruncatedTunnel: return "truncated-tunnel";
    case DropReason::kBadTunnelHeader: return "bad-tunnel-header";
  }
  return "unknown";
}

std::string_view IcmpError::name() const {
  static constexpr std::string_view kUnreachable4[] = {
      "net-unreachable",      "host-unreachable",     "protocol-unreachable",
      "port-unreachable",     "fragmentation-needed", "source-route-failed",
      "net-unknown",          "host-unknown",         "source-host-isolated",
      "net-prohibited",       "host-prohibited",      "net-tos-unreachable",
      "host-tos-unreachable", "admin-prohibited",     "host-precedence-violation",
      "precedence-cutoff"};
  static constexpr std::string_view kUnreachable6[] = {
      "no-route",         "admin-prohibited",     "beyond-scope", "address-unreachable",
      "port-unreachable", "source-policy-failed", "reject-route"};
  if (v6) {
    switch (type) {
      case 1: return code < std::size(kUnreachable6) ? kUnreachable6[code] : "unreachable";
      case 2: return "packet-too-big";
      case 3: return code == 1 ? "reassembly-timeout" : "hop-limit-exceeded";
      case 4: return "parameter-problem";
      default: return "icmp-error";
    }
  }
  switch (type) {
    case 3: return code < std::size(kUnreachable4) ? kUnreachable4[code] : "unreachable";
    case 4: return "source-quench";
    case 5: return "redirect";
    case 11: return code == 1 ? "reassembly-timeout" : "ttl-exceeded";
    case 12: return "parameter-problem";
    default: return "icmp-error";
  }
}

std::string_view to_string(TunnelKind kind) {
  static constexpr std::string_view kNames[] = {
      "none",      "vxlan",      "vxlan-gpe", "geneve",      "gre",  "erspan-i",
      "erspan-ii", "erspan-iii", "ip-in-ip",  "6in4",        "4in6", "6in6",
      "teredo",    "gtp-u",      "mpls-udp",  "pim-register"};
  static_assert(std::size(kNames) == kTunnelKindCount);
  return std::size_t(kind) < kTunnelKindCount ? kNames[std::size_t(kind)] : "unknown";
}

IpAddress Tunnel::source() const {
  return outer_family == Family::kV4 ? IpAddress::v4_bytes(outer_src)
                                     : IpAddress::v6_bytes(outer_src);
}

IpAddress Tunnel::destination() const {
  return outer_family == Family::kV4 ? IpAddress::v4_bytes(outer_dst)
                                     : IpAddress::v6_bytes(outer_dst);
}

std::optional<SocketPair> Tunnel::outer_pair() const {
  if (kind == TunnelKind::kNone || outer_protocol != 17) return std::nullopt;
  return SocketPair{Transport::kUdp, Endpoint{source(), outer_src_port},
                    Endpoint{destination(), outer_dst_port}};
}

std::string Tunnel::to_string() const {
  if (kind == TunnelKind::kNone) return "";
  std::string s(sockscope::to_string(kind));
  const auto pair = outer_pair();
  s.append(pair ? " udp " : " ");
  s.append(pair ? pair->first.to_string() : source().to_string());
  s.append(" -> ");
  s.append(pair ? pair->second.to_string() : destination().to_string());
  return s;
}

std::string Conversation::community_id() const { return sockscope::community_id(pair); }

std::uint64_t CaptureStats::dropped_total() const {
  std::uint64_t n = 0;
  for (std::uint64_t d : dropped) n += d;
  return n;
}

void CaptureStats::add(const CaptureStats& o) {
  packets += o.packets;
  decoded += o.decoded;
  wire_bytes += o.wire_bytes;
  for (std::size_t i = 0; i < kDropReasonCount; ++i) dropped[i] += o.dropped[i];
  icmp_errors_matched += o.icmp_errors_matched;
  fragments += o.fragments;
  bad_checksums += o.bad_checksums;
  for (std::size_t i = 0; i < kDropReasonCount; ++i) inner_dropped[i] += o.inner_dropped[i];
  for (std::size_t i = 0; i < kTunnelKindCount; ++i) tunnelled[i] += o.tunnelled[i];
}

}  // namespace sockscope
