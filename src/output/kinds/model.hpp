// Record kinds of the model commands: endpoint, socket pair, port group,
// ephemeral range (see schema.hpp for what a kind declares).
#pragma once

#include <optional>
#include <string_view>

#include "output/schema.hpp"
#include "sockscope/port.hpp"
#include "sockscope/registry.hpp"
#include "sockscope/socket_pair.hpp"

namespace sockscope::output {

// `sockscope endpoint TEXT`: one parsed endpoint.
struct EndpointRow {
  std::string_view input;
  Endpoint endpoint;
  std::optional<PortRange> host;  // this host's ephemeral range, when known
};
extern const RecordKind kEndpointKind;

// A socket pair explained: client, server, evidence, service, Community ID.
struct PairRow {
  const SocketPair& pair;
  Role role;
  const Service* service = nullptr;
  std::optional<PortRange> host;
};
extern const RecordKind kPairKind;

// IANA's port groups and the ephemeral ranges (`sockscope groups`).
struct GroupRow {
  PortGroup group;
  std::string_view description;
};
extern const RecordKind kGroupKind;

struct EphemeralRangeRow {
  const EphemeralRange& range;
  bool host = false;  // this host's range in force
};
extern const RecordKind kEphemeralRangeKind;

}  // namespace sockscope::output
