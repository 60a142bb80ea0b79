// sockscope/host.hpp: this host's sockets as socket pairs, with the role of the
// local side and the evidence for it.
//
//   auto source = sockscope::open_socket_source();
//   auto range = EphemeralRange::read_host();
//   dump_with_roles(**source, {}, range->range, [](const HostSocket& s) {
//     s.record.local;            // 127.0.0.1:5432
//     s.role;                    // LocalRole::kServer
//     s.evidence;                // Evidence::kAccepted: same local endpoint as a listener
//     s.server_port();           // 5432: the port the service is named by
//   });
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
#include <unordered_set>
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

// Whether the record waits for others: TCP LISTEN, or UDP with no peer whose
// port was not chosen by the kernel (unknown bit counts as a listener).
bool is_listener(const SocketRecord& record);

// The listening endpoints of one or more namespaces.
class ListenerIndex {
 public:
  void add(const SocketRecord& listener);
  // Same namespace and transport, and the same local endpoint or a wildcard
  // listener of the same family on the same port.
  bool covers(const SocketRecord& record) const;
  // The same for the record's remote endpoint: the peer is a local listener's. A
  // wildcard listener counts only for a remote address known to be this
  // namespace's: loopback, or one that a listener or socket of add() is bound to.
  bool covers_peer(const SocketRecord& record) const;
  // A socket bound to a specific address makes that address one of its namespace's.
  void add_local_address(const SocketRecord& record);
  std::size_t size() const { return keys_.size(); }

 private:
  struct Local {
    std::uint64_t netns;
    IpAddress address;
    friend bool operator==(const Local&, const Local&) = default;
  };
  struct LocalHash {
    std::size_t operator()(const Local& l) const;
  };
  std::unordered_set<Local, LocalHash> local_addresses_;
  struct Key {
    std::uint64_t netns;
    Transport transport;
    Endpoint local;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const;
  };
  std::unordered_set<Key, KeyHash> keys_;
};

struct RoleOf {
  LocalRole role;
  Evidence evidence;
};
// The role of `record`'s local side. REQUIRES: the index holds every listener
// of the record's namespace (listeners are classified without it).
RoleOf classify(const SocketRecord& record, const ListenerIndex& listeners,
                std::optional<PortRange> host_ephemeral);

// Streams the sockets matching `query` with their roles: a first dump learns the
// listeners (TCP LISTEN and unconnected UDP), a second streams the rest, so
// memory stays proportional to the listeners, not to the table.
std::expected<DumpStats, Error> dump_with_roles(
    SocketSource& source, const SocketQuery& query, std::optional<PortRange> host_ephemeral,
    const std::function<void(const HostSocket&)>& sink);

}  // namespace sockscope
