// SocketPair parser. Properties: round trip through the canonical text, the
// canonical key and hash are direction-free, role() names both sides (never port 0
// as the server), every role is explained, and errors are one bounded line.
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
    // One bounded line whatever the input (the fragment is cut after 64 bytes).
    if (pair.error().what().size() > pair.error().message.size() + 96) std::abort();
    return 0;
  }
  auto again = sockscope::SocketPair::parse(pair->to_string());
  if (!again || !(*again == *pair)) std::abort();
  if (pair->hash() != pair->reversed().hash()) std::abort();
  if (!(pair->canonical() == pair->reversed().canonical())) std::abort();
  auto role = pair->role(sockscope::PortRange{32768, 60999});
  if (role.client == role.server) std::abort();
  // Port 0 is never the server; every evidence has an explanation.
  if (sockscope::has_ports(pair->transport) && pair->endpoint(role.server).port == 0 &&
      pair->endpoint(role.client).port != 0) {
    std::abort();
  }
  if (sockscope::explain(*pair, role, sockscope::PortRange{32768, 60999}).empty()) std::abort();
  // Direction-free for transports with ports; ICMP's type/code are directional.
  if (sockscope::has_ports(pair->transport) &&
      sockscope::community_id(*pair) != sockscope::community_id(pair->reversed())) {
    std::abort();
  }
  return 0;
}
