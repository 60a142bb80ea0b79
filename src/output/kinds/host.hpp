// Record kinds of the host commands: a live socket (`sockets`, `listen`, --watch),
// the overview's rows, and ephemeral-port use per destination.
#pragma once

#include <string_view>
#include <vector>

#include "output/schema.hpp"
#include "sockscope/ephemeral.hpp"
#include "sockscope/host_scan.hpp"
#include "sockscope/overview.hpp"

namespace sockscope::output {

// One socket as `sockets` shows it; `event` and `new_listener` under --watch.
struct SocketRow {
  const HostRow& row;
  std::string_view event;  // "appeared", "disappeared"; "" outside --watch
  bool new_listener = false;
};
extern const RecordKind kSocketKind;
// A process holding a socket: {pid, command, fd}; as text "python3[4242]:fd3".
extern const RecordKind kProcessKind;

// The overview: a port this host serves (kind "listener", or "served" when only
// accepted connections remain), a remote service it talks to, and the totals.
struct PortRow {
  Transport transport;
  Port port;
  const Service* service;
  std::vector<StateCount> connections;
  PortRow(Transport t, Port p, const Service* s, const StateCounts& counts);
};
struct ServedRow : PortRow {
  static constexpr std::string_view kServiceHeader = "SERVES";
  static constexpr std::string_view kPortMeaning = "the local port";
  static constexpr std::string_view kConnectionsMeaning =
      "accepted connections by state {\"ESTAB\": n, ...}";
  bool listening;
  const std::vector<std::string>& addresses;
  explicit ServedRow(const ServedPort& p)
      : PortRow(p.transport, p.port, p.service, p.connections),
        listening(p.listening),
        addresses(p.addresses) {}
};
extern const RecordKind kServedKind;
struct RemoteRow : PortRow {
  static constexpr std::string_view kServiceHeader = "TALKS TO";
  static constexpr std::string_view kPortMeaning = "the remote (server) port";
  static constexpr std::string_view kConnectionsMeaning =
      "client connections by state {\"ESTAB\": n, ...}";
  std::size_t hosts;
  explicit RemoteRow(const RemoteService& s)
      : PortRow(s.transport, s.port, s.service, s.connections), hosts(s.hosts) {}
};
extern const RecordKind kRemoteServiceKind;
struct OverviewSummaryRow {
  const HostOverview& overview;
  std::string_view source;
};
extern const RecordKind kOverviewSummaryKind;

// `sockets -s`: sockets by transport (family and state counts) and the kernel's
// own counters.
struct TransportSummaryRow {
  const TransportCount& count;
  std::vector<StateCount> states;
  explicit TransportSummaryRow(const TransportCount& c);
};
extern const RecordKind kTransportSummaryKind;
extern const RecordKind kKernelSocketsKind;  // row: KernelSocketCounts

// `ephemeral`: one destination's use of the pool, and the bind(0) pool.
struct DestinationRow {
  const DestinationUsage& destination;
  const std::vector<ProcessShare>* processes = nullptr;  // nullptr: not looked up
};
extern const RecordKind kDestinationKind;
extern const RecordKind kProcessShareKind;  // {pid, command, sockets}; "python3[5697] x40"
struct BindPoolRow {
  const EphemeralReport& report;
};
extern const RecordKind kBindPoolKind;

// "python3[4242]" and its ":fd3" / " x40" forms: one owner notation everywhere.
void append_owner(std::string& out, std::string_view command, int pid);

}  // namespace sockscope::output
