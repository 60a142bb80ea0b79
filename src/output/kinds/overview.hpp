// Record kinds of the overview (`sockscope` without a subcommand): a port this host
// serves, a remote service it talks to, a pressure (ephemeral ports, TIME-WAIT, full
// accept queues, unreadable owners) and the totals; nested: a listener's processes
// and a remote service's busiest hosts.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "output/schema.hpp"
#include "sockscope/overview.hpp"

namespace sockscope::output {

// The fields a served port and a remote service share.
struct PortRow {
  Transport transport;
  Port port;
  const Service* service;
  std::vector<StateCount> connections;
  PortRow(Transport t, Port p, const Service* s, const StateCounts& counts);
};

// kind "listener", or "served" when only accepted connections remain.
struct ServedRow : PortRow {
  static constexpr std::string_view kPortHeader = "SERVES";
  static constexpr std::string_view kPortMeaning = "the local port";
  static constexpr std::string_view kConnectionsMeaning =
      "accepted connections by state {\"ESTAB\": n, ...}";
  const ServedPort& served;
  explicit ServedRow(const ServedPort& p)
      : PortRow(p.transport, p.port, p.service, p.connections), served(p) {}
};
extern const RecordKind kServedKind;
// A process holding a listening socket: {pid, command, fd}, as `sockets` writes it.
extern const RecordKind kSocketOwnerKind;

struct RemoteRow : PortRow {
  static constexpr std::string_view kPortHeader = "TALKS TO";
  static constexpr std::string_view kPortMeaning = "the remote (server) port";
  static constexpr std::string_view kConnectionsMeaning =
      "client connections by state {\"ESTAB\": n, ...}";
  const RemoteService& remote;
  std::vector<StateCount> owners_missing;
  explicit RemoteRow(const RemoteService& s);
};
extern const RecordKind kRemoteServiceKind;
// One remote host of a remote service: {address, connections}; as text "10.0.0.5 x12".
extern const RecordKind kRemoteHostKind;

// One pressure: its table line and its record.
struct PressureRow {
  std::string_view
      pressure;            // "ephemeral-ports", "time-wait", "accept-queue-full", "owners-missing"
  std::string_view level;  // "info", "warning", "error"
  std::uint64_t count = 0;
  std::optional<std::uint64_t> limit;
  const EphemeralPressure* ephemeral = nullptr;
  const ServedPort* listener = nullptr;
  OwnerMissing reason = OwnerMissing::kNone;
  std::string hint;
  std::string detail;  // the table's line
};
extern const RecordKind kPressureKind;

struct OverviewSummaryRow {
  const HostOverview& overview;
  std::string_view source;
  bool owners = false;        // owning processes were looked up
  std::uint64_t time_ns = 0;  // --watch: when the snapshot was taken
};
extern const RecordKind kOverviewSummaryKind;

// The pressures of an overview, in table order; `how_to_read_owners` is the
// advice for sockets whose owners were not readable ("" for none).
std::vector<PressureRow> pressure_rows(const HostOverview& o, std::string_view how_to_read_owners);

// A service name for tables: "irdmi?" when it is only IANA's name for the port
// (a hint of what usually runs there), the name when a services file on this host
// gives it, "-" without one.
std::string service_text(const Service* service);

}  // namespace sockscope::output
