// Deterministic synthetic traffic: many interleaved conversations (TCP with
// handshakes, data and FIN or RST closes; UDP request/response), a share of IPv6,
// VLAN tags, a snaplen. Used by the tshark oracle test, the benchmark's 1 GB file
// and the shipped sample capture.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "capture/capture_writer.hpp"

namespace sockscope::testing {

struct TrafficOptions {
  std::uint64_t packets = 10'000;
  std::uint64_t conversations = 500;  // roughly: packets per conversation = packets / this
  std::uint32_t concurrent = 2000;    // conversations open at once (interleaving)
  double ipv6_share = 0.2;
  double vlan_share = 0.3;
  double udp_share = 0.35;
  std::uint32_t snaplen = 96;
  std::uint64_t seed = 1;
  std::uint64_t start_ns = 1'700'000'000'000'000'000ull;
  std::uint64_t step_ns = 10'000;  // mean time between packets
  CaptureWriter::Format format = CaptureWriter::kPcapMicro;
  // Every frame inside VXLAN between 8 x 8 tunnel endpoints (the snaplen is counted from
  // the inner frame: 50 bytes more of the record are captured). The outer source port is
  // a hash of the inner conversation and direction, as Linux picks it, or with
  // `vxlan_fixed_port` one per endpoint pair (a bound on what the outer flows cost).
  bool vxlan = false;
  bool vxlan_fixed_port = false;
};

struct TrafficTotals {
  std::uint64_t packets = 0, conversations = 0, bytes = 0;
};

// Writes the capture to `file` (streaming); returns what was written.
TrafficTotals generate_traffic(const TrafficOptions& options, std::FILE* file);

}  // namespace sockscope::testing
