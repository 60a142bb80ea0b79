// Writes a deterministic synthetic capture (see tests/capture/traffic_generator.hpp):
//   capture_gen --out /tmp/bench.pcap --packets 10000000 --conversations 500000
//   capture_gen --out data/sample.pcapng --format pcapng --packets 400 --conversations 24
//   capture_gen --out /tmp/bench-vxlan.pcap --packets 10000000 --conversations 500000
//     --vxlan yes            (on one line: the same traffic, each frame inside VXLAN)
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "capture/traffic_generator.hpp"

int main(int argc, char** argv) {
  sockscope::testing::TrafficOptions o;
  std::string out;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--out") {
      out = v;
    } else if (k == "--packets") {
      o.packets = std::strtoull(v, nullptr, 10);
    } else if (k == "--conversations") {
      o.conversations = std::strtoull(v, nullptr, 10);
    } else if (k == "--concurrent") {
      o.concurrent = std::uint32_t(std::strtoul(v, nullptr, 10));
    } else if (k == "--snaplen") {
      o.snaplen = std::uint32_t(std::strtoul(v, nullptr, 10));
    } else if (k == "--seed") {
      o.seed = std::strtoull(v, nullptr, 10);
    } else if (k == "--step-ns") {
      o.step_ns = std::strtoull(v, nullptr, 10);
    } else if (k == "--vxlan") {  // yes: hashed source ports; fixed: one per endpoint pair
      o.vxlan = std::strcmp(v, "yes") == 0 || std::strcmp(v, "fixed") == 0;
      o.vxlan_fixed_port = std::strcmp(v, "fixed") == 0;
    } else if (k == "--format") {
      o.format = std::strcmp(v, "pcapng") == 0 ? sockscope::testing::CaptureWriter::kPcapNg
                                               : sockscope::testing::CaptureWriter::kPcapMicro;
    } else {
      std::fprintf(stderr, "capture_gen: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (out.empty()) {
    std::fprintf(stderr,
                 "usage: capture_gen --out FILE [--packets N] [--conversations N] "
                 "[--concurrent N] [--snaplen N] [--seed N] [--format pcap|pcapng]\n"
                 "       [--vxlan yes|fixed]  every frame inside VXLAN (hashed or fixed outer "
                 "source ports)\n");
    return 2;
  }
  std::FILE* f = std::fopen(out.c_str(), "wb");
  if (!f) {
    std::perror(out.c_str());
    return 3;
  }
  const auto totals = sockscope::testing::generate_traffic(o, f);
  if (std::fclose(f) != 0) {
    std::perror(out.c_str());
    return 3;
  }
  std::printf("%s: %llu packets, %llu conversations started, %llu frame bytes\n", out.c_str(),
              (unsigned long long)totals.packets, (unsigned long long)totals.conversations,
              (unsigned long long)totals.bytes);
  return 0;
}
