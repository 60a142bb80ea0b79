// The role rule's parts that more than the dump use (the connection log
// classifies sockets it learns of from destroy messages and its own dumps):
// which records are listeners, an index of the listening endpoints, and the
// classification itself (host.hpp describes the rule). Internal to the host
// layer. Thread safety: an index is read-only after it is filled.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_set>

#include "sockscope/host.hpp"

namespace sockscope::host_detail {

// Whether the record waits for others: TCP LISTEN, or UDP with no peer whose
// port was not chosen by the kernel (an unknown bit counts as a listener).
bool is_listener(const SocketRecord& record);

// The listening endpoints of one or more namespaces.
class ListenerIndex {
 public:
  void add(const SocketRecord& listener) {
    keys_.insert({listener.netns,
                  listener.transport,
                  {listener.local.address.without_zone(), listener.local.port}});
    add_local_address(listener);
  }
  // A socket bound to a specific address makes that address one of its namespace's.
  void add_local_address(const SocketRecord& r) {
    const IpAddress a = r.local.address.without_zone().unmapped();
    if (!a.is_unspecified()) local_addresses_.insert({r.netns, a});
  }
  // Same namespace and transport, and the same local endpoint or a wildcard
  // listener of the same family on the same port.
  bool covers(const SocketRecord& record) const;
  // The same for the record's remote endpoint: the peer is a local listener's. A
  // wildcard listener counts only for a remote address known to be this
  // namespace's: loopback, or one that a listener or socket of add() is bound to.
  bool covers_peer(const SocketRecord& record) const;

 private:
  struct Local {
    std::uint64_t netns;
    IpAddress address;
    friend bool operator==(const Local&, const Local&) = default;
  };
  struct LocalHash {
    std::size_t operator()(const Local& l) const {
      std::uint64_t h = l.netns * 0x9E3779B97F4A7C15ull;
      for (std::uint8_t b : l.address.bytes()) h = (h ^ b) * 0x100000001B3ull;
      return std::size_t(h ^ (h >> 29));
    }
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

// The role of `record`'s local side. REQUIRES: the index holds every listener of
// the record's namespace (listeners are classified without it).
RoleOf classify(const SocketRecord& record, const ListenerIndex& listeners,
                std::optional<PortRange> host_ephemeral);

}  // namespace sockscope::host_detail
