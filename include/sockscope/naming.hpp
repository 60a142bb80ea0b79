// sockscope/naming.hpp: which service name a socket pair's server port goes by.
// One rule for every view (live sockets, captured conversations, explained pairs):
//
//   #include <iostream>
//   Registry registry;  // IANA's names; load_services_file() adds local labels
//   Naming naming(registry);
//   std::cout << naming.service(Transport::kTcp, 443, Evidence::kHandshake)->name << '\n';
//   // => https
//   auto pair = SocketPair::parse("10.0.0.1:40000, 10.0.0.2:40001");  // two client-like ports
//   Role role = pair->role(PortRange{32768, 60999});                  // Evidence::kLowerPortGuess
//   std::cout << (naming.service(*pair, role) ? "named" : "no name for a guess") << '\n';
//   // => no name for a guess
//
// The rule: the registry's primary name for the server port (local labels first,
// then IANA's), unless
//   - the transport has no ports (ICMP) or the port is 0;
//   - the role is only a guess (Evidence::kLowerPortGuess) and the port is not
//     well-known: between two ports that both look like clients' (Linux's range
//     32768-60999 covers registered ports), the lower one is not "the service
//     registered on it". NamingOptions::name_guesses names them anyway.
// A name is a hint about what usually runs on a port, never a claim about what
// does (the number always comes first in the output).
//
// Thread safety: const member functions may be called concurrently when
// NamingOptions::cache is off; with the cache on (the default for one thread),
// one thread at a time.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_map>

#include "sockscope/port.hpp"
#include "sockscope/registry.hpp"
#include "sockscope/socket_pair.hpp"
#include "sockscope/transport.hpp"

namespace sockscope {

struct NamingOptions {
  // Name the lower port of a guessed pair too (--ephemeral-names).
  bool name_guesses = false;
  // Remember answers per transport and port: a busy host has thousands of sockets
  // on a few ports, and repeated lookups make the registry build its label indexes.
  bool cache = true;
};

class Naming {
 public:
  explicit Naming(const Registry& registry, NamingOptions options = {})
      : registry_(registry), options_(options) {}

  // The name the server port of a pair goes by, or nullptr (see the rule above).
  const Service* service(Transport transport, Port server_port, Evidence evidence) const;
  // The server's name for a pair and its role.
  const Service* service(const SocketPair& pair, const Role& role) const {
    return service(pair.transport, pair.endpoint(role.server).port, role.evidence);
  }
  // The registry's primary name for the port, whatever the evidence.
  const Service* registered(Transport transport, Port port) const;

  const NamingOptions& options() const { return options_; }

 private:
  const Registry& registry_;
  NamingOptions options_;
  mutable std::unordered_map<std::uint32_t, const Service*> cache_;
};

}  // namespace sockscope
