// The sock_diag message decoder (destroy notifications, dumps) on arbitrary
// bytes: every length is checked, nothing is read past the datagram. Seeds:
// fuzz/corpus/diag_message/ (a real TCP destroy notification and cut variants).
#include <cstddef>
#include <cstdint>
#include <span>

#include "host/diag_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::uint64_t sum = 0;
  auto n = sockscope::host_detail::parse_diag_messages(
      std::span<const std::uint8_t>(data, size), [&](const sockscope::host_detail::DiagMessage& m) {
        sum += m.cookie + m.sport + (m.tcp ? m.tcp->bytes_acked + m.tcp->segs_in : 0);
      });
  volatile std::uint64_t sink = sum + (n ? *n : n.error().message.size());
  (void)sink;
  return 0;
}
