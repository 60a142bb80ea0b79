#include "sockscope/naming.hpp"

namespace sockscope {

const Service* Naming::registered(Transport transport, Port port) const {
  if (!has_ports(transport) || port == 0) return nullptr;
  if (!options_.cache) return registry_.primary(port, transport);
  const std::uint32_t key = std::uint32_t(transport) << 16 | port;
  auto [it, added] = cache_.try_emplace(key, nullptr);
  if (added) it->second = registry_.primary(port, transport);
  return it->second;
}

const Service* Naming::service(Transport transport, Port server_port, Evidence evidence) const {
  if (is_guess(evidence) && !options_.name_guesses &&
      group_of(server_port) != PortGroup::kWellKnown) {
    return nullptr;
  }
  return registered(transport, server_port);
}

}  // namespace sockscope
