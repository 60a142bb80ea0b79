// Zeek's likely_server_ports: the ports its base scripts declare servers listen on
// (each protocol script's `redef likely_server_ports += ...`). A connection whose first
// packet is not a SYN, sent from such a port to one that is not, has its roles flipped
// (Zeek's WantConnection for TCP and UDP). Internal to the capture layer.
#pragma once

#include <cstdint>

#include "sockscope/transport.hpp"

namespace sockscope::capture_detail {

bool likely_server_port(Transport transport, std::uint16_t port);

}  // namespace sockscope::capture_detail
