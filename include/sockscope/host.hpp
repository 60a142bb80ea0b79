// sockscope/host.hpp: this host's sockets as socket pairs, with the role of the
// local side and the evidence for it.
//
//   #include <iostream>
//   auto source = open_socket_source();        // netlink, else /proc/net
//   auto range = EphemeralRange::read_host();  // for the port-group rule
//   if (!source || !range) return 1;
//   auto stats = dump_with_roles(**source, {}, range->range, [](const HostSocket& s) {
//     std::cout << s.record.local.to_string()       // 127.0.0.1:5432
//               << ' ' << to_string(s.role)         // server
//               << ' ' << to_string(s.evidence)     // accepted: same endpoint as a listener
//               << ' ' << s.server_port() << '\n';  // 5432: the port its service is named by
//   });
//   if (!stats) return 1;
//
// Roles, strongest evidence first (DESIGN.md, Host):
//   listener  TCP LISTEN, or a UDP socket with no peer whose port was bound
//             explicitly (kListener);
//   server    same local endpoint as a listener of the same namespace and
//             transport, or its wildcard address (kAccepted): accepted children,
//             SYN_RECV, and TIME_WAIT left by the server side;
//   client    the kernel chose the local port (kAutoBound), or the remote
//             endpoint is a listener's of the same namespace and transport:
//             both ends are on this host and the other one was accepted
//             (kPeerListener);
//   otherwise the port-group rule of SocketPair::role() with the host's
//   ephemeral range (kWellKnownPort, kRegisteredVsEphemeral, kLowerPortGuess);
//   unknown   no peer and no listener (nothing to compare).
// "accepted" is tested before "autobound" because the kernel clears the
// bind-port lock on accepted children (sk_clone_lock), so they look autobound.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "sockscope/port.hpp"
#include "sockscope/socket_pair.hpp"
#include "sockscope/socket_table.hpp"

namespace sockscope {

enum class LocalRole : std::uint8_t { kListener, kServer, kClient, kUnknown };

// "listener", "server", "client", "unknown".
std::string_view to_string(LocalRole role);

// A socket with the role of its local side.
struct HostSocket {
  const SocketRecord& record;
  LocalRole role = LocalRole::kUnknown;
  Evidence evidence = Evidence::kLowerPortGuess;

  bool is_server_side() const { return role == LocalRole::kListener || role == LocalRole::kServer; }
  // The port a service is named by: the local port of listeners and servers,
  // the remote port of clients; 0 when unknown.
  Port server_port() const;
  // The pair written local first.
  SocketPair pair() const { return {record.transport, record.local, record.remote}; }
};

// Streams the sockets matching `query` with their roles: a first dump learns the
// listeners (TCP LISTEN and unconnected UDP), a second streams the rest, so
// memory stays proportional to the listeners, not to the table.
std::expected<DumpStats, Error> dump_with_roles(SocketSource& source, const SocketQuery& query,
                                                std::optional<PortRange> host_ephemeral,
                                                const std::function<void(const HostSocket&)>& sink);

}  // namespace sockscope
