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
  void add(const SocketRecord& listener);
  // Same namespace and transport, and the same local endpoint or a wildcard
  // listener of the same family on the same port.
  bool covers(const SocketRecord& record) const;

 private:
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
