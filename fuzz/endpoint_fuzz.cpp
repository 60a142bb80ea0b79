// Endpoint and IpAddress parsers. Property: whatever parses formats to text
// that parses back to the same value (and formats identically again).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sockscope/endpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto ep = sockscope::Endpoint::parse(text)) {
    std::string canonical = ep->to_string();
    auto again = sockscope::Endpoint::parse(canonical);
    if (!again || !(*again == *ep) || again->to_string() != canonical) std::abort();
  } else if (ep.error().column > size + 1) {
    std::abort();  // an error must point inside (or just past) the input
  }
  if (auto a = sockscope::IpAddress::parse(text)) {
    auto again = sockscope::IpAddress::parse(a->to_string());
    if (!again || !(*again == *a)) std::abort();
  }
  return 0;
}
