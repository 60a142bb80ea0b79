// SocketPair parser. Properties: round trip through the canonical text, the
// canonical key and hash are direction-free, and role() names both sides.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sockscope/community_id.hpp"
#include "sockscope/socket_pair.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto pair = sockscope::SocketPair::parse(text);
  if (!pair) {
    if (pair.error().column > size + 1) std::abort();
    return 0;
  }
  auto again = sockscope::SocketPair::parse(pair->to_string());
  if (!again || !(*again == *pair)) std::abort();
  if (pair->hash() != pair->reversed().hash()) std::abort();
  if (!(pair->canonical() == pair->reversed().canonical())) std::abort();
  auto role = pair->role(sockscope::PortRange{32768, 60999});
  if (role.client == role.server) std::abort();
  // Direction-free for transports with ports; ICMP's type/code are directional.
  if (sockscope::has_ports(pair->transport) &&
      sockscope::community_id(*pair) != sockscope::community_id(pair->reversed())) {
    std::abort();
  }
  return 0;
}
