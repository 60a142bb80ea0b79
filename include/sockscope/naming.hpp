// sockscope/naming.hpp: which service name a socket pair's server port goes by.
// One rule for every view (live sockets, captured conversations, explained pairs):
//
//   sockscope::Registry registry;                        // IANA + local labels
//   sockscope::Naming naming(registry, range->range);    // this host's ephemeral range
//   naming.service(Transport::kTcp, 443, Evidence::kHandshake)->name;   // "https"
//   naming.service(Transport::kTcp, 40000, Evidence::kLowerPortGuess);  // nullptr
//   naming.answers_to(Transport::kTcp, 5432, "postgres");               // true (an alias)
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
