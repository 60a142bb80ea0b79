// The record kind of the registry commands (port, service, search): one
// assignment of a name to a port (range) and transport, or a port without one.
#pragma once

#include <optional>
#include <string_view>

#include "output/schema.hpp"
#include "sockscope/registry.hpp"

namespace sockscope::output {

struct AssignmentRow {
  std::string_view query;              // the argument it answers
  const Service* service = nullptr;    // the assignment, or
  const PortAnswer* answer = nullptr;  // a port without a name (service == nullptr)
  std::optional<SearchRank> rank;      // `search`: how it matched
  std::optional<bool> ephemeral;       // single-port queries: in this host's range?
};
extern const RecordKind kAssignmentKind;

}  // namespace sockscope::output
